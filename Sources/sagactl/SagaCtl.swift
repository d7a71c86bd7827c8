// sagactl: the operator's client for sagad's admin socket (Docs/admin-protocol.md).
// It links AdminProtocol and ArgumentParser only: no NIO, GRDB or librdkafka.
import AdminProtocol
import ArgumentParser
import Foundation

/// Options every `sagactl` command takes, before or after the command name
/// (`sagactl --json balance 1` and `sagactl balance 1 --json` are the same).
struct GlobalOptions: ParsableArguments {
  /// Where sagad listens under systemd: `RuntimeDirectory=sagad` gives it `/run/sagad`,
  /// and `admin.socket` defaults to `sagad.sock` inside it.
  static let systemdSocketPath = "/run/sagad/sagad.sock"
  /// Where `make run` (`sagad --dev --state-dir .sagad`) puts it, relative to the checkout.
  static let devSocketPath = ".sagad/sagad.sock"

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Path of sagad's admin socket.",
      discussion: """
        Default: $SAGAD_SOCKET when set; else ./\(Self.devSocketPath) when it exists (what `make run` \
        creates); else \(Self.systemdSocketPath) (sagad under systemd).
        """,
      valueName: "path"
    )
  )
  var socket: String?

  @Flag(name: .long, help: "Print one JSON document instead of a table.")
  var json = false

  @Option(name: .long, help: ArgumentHelp("Seconds to wait for sagad's reply.", valueName: "seconds"))
  var timeout: Int?

  /// The socket to use when none was given.
  static func defaultSocketPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
    if let path = environment["SAGAD_SOCKET"], !path.isEmpty { return path }
    if FileManager.default.fileExists(atPath: devSocketPath) { return devSocketPath }
    return systemdSocketPath
  }
}

@main
struct SagaCtl: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sagactl",
    abstract: "Inspect and operate a running sagad over its admin socket.",
    discussion: """
      sagactl sends one request line to sagad's Unix socket and prints the reply. What you may do \
      depends on who you are: root or sagad's own user may administer, members of admin.operator_groups \
      may operate, members of admin.read_groups may read.

      Exit status: 0 done; 1 sagad reported an error (8xxx), or sagad could not be reached; 2 the \
      request was not understood, by sagactl or by sagad (9xxx). Docs/admin-protocol.md has the codes.
      """,
    version: AdminProtocol.toolVersion,
    subcommands: [
      HelpCommand.self, VersionCommand.self, StatusCommand.self, WorkersCommand.self, UserCommand.self,
      ChargeCommand.self, BalanceCommand.self, PayCommand.self, PaymentCommand.self, SagaCommand.self,
      VerifyCommand.self, LoadCommand.self, CompensationsCommand.self, StuckCommand.self, LogLevelCommand.self,
      LagCommand.self, DrainCommand.self, ShutdownCommand.self, FailpointCommand.self, PauseCommand.self,
      ResumeCommand.self, RestartCommand.self, DltCommand.self,
    ]
  )

  @OptionGroup var options: GlobalOptions

  mutating func run() async throws {
    // No command given: show what there is to run.
    throw CleanExit.helpRequest(self)
  }

  /// ArgumentParser exits 64 for a command line it cannot parse; sagactl makes that 2,
  /// the same status as sagad's own usage errors, so scripts check one number.
  static func main() async {
    do {
      var command = try parseAsRoot()
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch {
      if exitCode(for: error) == .validationFailure {
        FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
        Foundation.exit(2)
      }
      exit(withError: error)
    }
  }
}

/// A sagactl command that is one admin request.
protocol AdminSubcommand: AsyncParsableCommand {
  var options: GlobalOptions { get }
  var root: SagaCtl { get }
  /// The request, without `json` (added from the options).
  func request() -> AdminRequest
}

extension AdminSubcommand {
  mutating func run() async throws { try send(defaultTimeout: 30) }

  /// Sends `request()` with the options (the subcommand's over the root's) and exits with
  /// the reply's code.
  func send(defaultTimeout: Int) throws {
    var request = request()
    request.json = options.json || root.options.json
    let socket = options.socket ?? root.options.socket ?? GlobalOptions.defaultSocketPath()
    let timeout = options.timeout ?? root.options.timeout ?? defaultTimeout
    throw ExitCode(ReplyPrinter.exchange(request, socket: socket, timeout: .seconds(max(1, timeout))))
  }
}
