// sagactl: the operator's client for sagad's admin socket (DESIGN.md §6).
// It links AdminProtocol and ArgumentParser only: no NIO, GRDB or librdkafka.
import AdminProtocol
import ArgumentParser

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Options every `sagactl` command shares. Subcommands reach them through `@OptionGroup`
/// (or `@ParentCommand`), so `sagactl --socket PATH <command>` works for all of them.
struct GlobalOptions: ParsableArguments {
  /// Where sagad listens when nothing else is said: systemd's `RuntimeDirectory=sagad` gives the daemon
  /// `/run/sagad`, and sagad's `admin.socket` key defaults to `sagad.sock` inside it.
  static let systemdSocketPath = "/run/sagad/sagad.sock"

  /// `$SAGAD_SOCKET` when set and not empty, else the systemd default.
  static var defaultSocketPath: String {
    if let value = getenv("SAGAD_SOCKET"), value.pointee != 0 {
      return String(cString: value)
    }
    return systemdSocketPath
  }

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Path of sagad's admin socket.",
      discussion: """
        Taken from $SAGAD_SOCKET when that is set; otherwise \(Self.systemdSocketPath), where sagad's \
        admin.socket points by default under systemd (RuntimeDirectory=sagad).
        """,
      valueName: "path"
    )
  )
  var socket: String = Self.defaultSocketPath

  @Flag(name: .long, help: "Print one JSON document instead of a table.")
  var json = false
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

      Exit status of a command sent to sagad: 0 done, 1 sagad reported an error, 2 sagad did not \
      understand the request. A command line that sagactl itself cannot parse exits 64.
      """,
    version: AdminProtocol.toolVersion
  )

  @OptionGroup var options: GlobalOptions

  mutating func run() async throws {
    // No command given: show what there is to run.
    throw CleanExit.helpRequest(self)
  }
}
