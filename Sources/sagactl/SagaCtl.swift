// sagactl: the operator's client for sagad's admin socket (Docs/admin-protocol.md).
// It links AdminProtocol and ArgumentParser only: no NIO, GRDB or librdkafka.
import AdminProtocol
import ArgumentParser
import Foundation

/// The entry point. Every subcommand but `load` is one admin request, and comes from the
/// catalogue (`AdminCommand`) through `AdminCommandLine`: its name, arguments, options and
/// help are sagad's own, so sagactl restates none of them. `load`, many requests, is a
/// swift-argument-parser command under this root.
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
    subcommands: [LoadCommand.self]
  )

  static let commandLine = AdminCommandLine(
    toolName: configuration.commandName ?? "sagactl", abstract: configuration.abstract,
    discussion: configuration.discussion, version: AdminProtocol.toolVersion, options: GlobalOptions.all,
    clientCommands: [AdminCommandLine.ClientCommand("load", abstract: LoadCommand.configuration.abstract)])

  @OptionGroup var options: GlobalOptions

  static func main() async {
    let arguments = Array(CommandLine.arguments.dropFirst())
    switch commandLine.interpret(arguments) {
    case .output(let text):
      print(text)
    case .usageError(let text):
      FileHandle.standardError.write(Data((text + "\n").utf8))
      Foundation.exit(2)
    case .request(let request, let options):
      Foundation.exit(send(request, options: options))
    case .clientCommand:
      await runParsed(arguments)
    }
  }

  /// Sends one request with the options given (the command's reply wait, else 30 s) and
  /// returns the exit status of its reply.
  static func send(_ request: AdminRequest, options: [String: String]) -> Int32 {
    var request = request
    for parameter in request.command.parameters where parameter.clientForm == .userName {
      request.arguments[parameter.name] = .text(operatorName())
    }
    let socket = options["socket"] ?? GlobalOptions.defaultSocketPath()
    let timeout = options["timeout"].flatMap { Int($0) } ?? request.command.replyWait(for: request) ?? 30
    return ReplyPrinter.exchange(request, socket: socket, timeout: .seconds(max(1, timeout)))
  }

  /// Who is asking, as the record and the saga timeline keep it (the audit log has the uid).
  private static func operatorName() -> String {
    let name = NSUserName()
    return name.isEmpty ? "sagactl" : name
  }

  /// swift-argument-parser runs `load`. It exits 64 for a command line it cannot parse;
  /// sagactl makes that 2, the same status as sagad's own usage errors, so scripts check
  /// one number.
  private static func runParsed(_ arguments: [String]) async {
    do {
      var command = try parseAsRoot(arguments)
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
