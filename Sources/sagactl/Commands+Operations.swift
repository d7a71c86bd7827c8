import AdminProtocol
import ArgumentParser

// Failpoints and supervised tasks (Docs/operations-recovery.md, "Failpoints" and "Supervision").

struct FailpointCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "failpoint", abstract: "Fault injection for drills: set, clear, list (needs failpoints.enabled).",
    subcommands: [FailpointSetCommand.self, FailpointClearCommand.self, FailpointListCommand.self])
  @ParentCommand var root: SagaCtl
}

struct FailpointSetCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "set", abstract: "Arm a failpoint (admin level: `crash` aborts sagad).")
  @ParentCommand var failpoint: FailpointCommand
  @OptionGroup var options: GlobalOptions
  @Argument(help: "points.reward, payments.refund, outbox.publish, consumer.before_offset_commit or db.commit.")
  var name: String
  @Argument(help: "error(transient), error(permanent), delay(<ms>) or crash.") var action: String
  @Option(help: ArgumentHelp("Fire on the next N hits only, then disarm.", valueName: "N")) var count: Int64?
  @Option(help: ArgumentHelp("Fire on each hit with this probability (0 < P <= 1).", valueName: "P"))
  var probability: String?
  var root: SagaCtl { failpoint.root }

  func request() -> AdminRequest {
    AdminRequest(
      .failpointSet,
      given: [
        "name": .text(name), "action": .text(action), "count": .integer(given: count),
        "probability": .text(given: probability),
      ])
  }
}

struct FailpointClearCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "clear", abstract: "Disarm one failpoint, or all with --all.")
  @ParentCommand var failpoint: FailpointCommand
  @OptionGroup var options: GlobalOptions
  @Argument(help: "The failpoint to disarm.") var name: String?
  @Flag(help: "Disarm every failpoint.") var all = false
  var root: SagaCtl { failpoint.root }

  func request() -> AdminRequest {
    AdminRequest(.failpointClear, given: ["name": .text(given: name), "all": .flag(given: all)])
  }
}

struct FailpointListCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "The armed failpoints: action, trigger, hits so far.")
  @ParentCommand var failpoint: FailpointCommand
  @OptionGroup var options: GlobalOptions
  var root: SagaCtl { failpoint.root }
  func request() -> AdminRequest { AdminRequest(.failpointList) }
}

struct PauseCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "pause", abstract: "Stop a consume worker fetching; it keeps its group membership.")
  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  @Argument(help: "The consume worker's name (see `sagactl workers`).") var worker: String
  func request() -> AdminRequest { AdminRequest(.pause, ["worker": .text(worker)]) }
}

struct ResumeCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "resume", abstract: "Let a paused consume worker fetch again.")
  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  @Argument(help: "The consume worker's name (see `sagactl workers`).") var worker: String
  func request() -> AdminRequest { AdminRequest(.resume, ["worker": .text(worker)]) }
}

struct RestartCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "restart", abstract: "Start a supervised task again now, also a failed one.")
  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  @Argument(help: "The task's name (see `sagactl workers`).") var worker: String
  func request() -> AdminRequest { AdminRequest(.restart, ["worker": .text(worker)]) }
}
