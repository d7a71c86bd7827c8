import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

/// The `sagactl` binary's command line without a sagad: every catalogue command is a
/// subcommand with help, `load` still parses through swift-argument-parser, and the exit
/// statuses are 0 for help, 2 for a line it cannot read, 1 when sagad cannot be reached.
@Suite("sagactl help and usage from the catalogue", .timeLimit(.minutes(2)))
struct SagactlHelpTests {
  @Test("--help lists every command; each command's --help shows its usage")
  func help() async throws {
    let sagactl = try sagactlBinary()
    let root = try await run(sagactl, ["--help"])
    #expect(root.status == 0, "\(root.stderr)")
    for name in Set(AdminCommand.allCases.map { $0.words[0] }) + ["load"] {
      #expect(root.stdout.contains("\n  \(name) "), "\(name)")
    }
    for command in AdminCommand.allCases {
      let help = try await run(sagactl, command.words + ["--help"])
      #expect(help.status == 0, "\(command): \(help.stderr)")
      #expect(help.stdout.contains("USAGE: sagactl \(command.rawValue) "), "\(command)")
    }
    let load = try await run(sagactl, ["load", "--help"])
    #expect(load.status == 0 && load.stdout.contains("--payments <N>"), "\(load.stderr)")
  }

  @Test("exit 2 for what sagactl cannot read, 1 when sagad cannot be reached")
  func exitStatuses() async throws {
    let sagactl = try sagactlBinary()
    let directory = try TemporaryDirectory()
    let socket = directory.url.appendingPathComponent("none.sock").path
    let unknown = try await run(sagactl, ["frobnicate"])
    #expect(unknown.status == 2)
    #expect(unknown.stderr.hasPrefix("Error: Unexpected argument 'frobnicate'\n"))
    let missing = try await run(sagactl, ["compensations", "resolve", "4", "--socket", socket])
    #expect(missing.status == 2)
    #expect(missing.stderr.hasPrefix("Error: Missing expected argument '--note <TEXT>'\n"))
    #expect(try await run(sagactl, ["load", "--socket", socket]).status == 2)
    let unreachable = try await run(sagactl, ["compensations", "retry", "4", "--socket", socket])
    #expect(unreachable.status == 1)
    #expect(unreachable.stderr.contains("no sagad socket at \(socket)"))
  }
}
