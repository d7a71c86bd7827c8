import AdminProtocol
import ArgumentParser

// The daemon commands: log level, lag, drain and shutdown.

struct LogLevelCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "log-level", abstract: "Show or change the level of sagad's log lines, at once.")
  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  @Argument(help: "trace, debug, info, notice, warning, error or critical; none shows the current level.")
  var level: String?
  func request() -> AdminRequest { AdminRequest(.logLevel, given: ["level": .text(given: level)]) }
}

struct LagCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "lag",
    abstract:
      "Consumer lag of this sagad's own and partner groups, from the broker, per partition, with a Burrow-style "
      + "OK/WARN/ERR over the last samples (NO-OFFSET: never committed).")
  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  func request() -> AdminRequest { AdminRequest(.lag) }
}

struct DrainCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "drain",
    abstract: "Stop taking pay, finish in-flight payments, wait for the outbox to empty; exit 1 if it did not.")
  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  @Option(help: ArgumentHelp("Seconds to wait for the outbox (default: sagad's shutdown.timeout).", valueName: "N"))
  var waitSeconds: Int64?
  func request() -> AdminRequest { AdminRequest(.drain, given: ["timeout": .integer(given: waitSeconds)]) }

  /// As every command, but the reply may take as long as the drain itself.
  mutating func run() async throws {
    try send(defaultTimeout: min(Int(waitSeconds ?? 3600), 3600) + 10)
  }
}

struct ShutdownCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "shutdown", abstract: "Stop sagad gracefully, as SIGTERM does.")
  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  func request() -> AdminRequest { AdminRequest(.shutdown) }
}
