import AdminProtocol
import ArgumentParser
import Foundation

/// Options every `sagactl` command takes, before or after the command name
/// (`sagactl --json balance 1` and `sagactl balance 1 --json` are the same). The catalogue
/// commands read them through `AdminCommandLine` (`all`); `load` through the properties,
/// which use the same texts.
struct GlobalOptions: ParsableArguments {
  /// Where sagad listens under systemd: `RuntimeDirectory=sagad` gives it `/run/sagad`,
  /// and `admin.socket` defaults to `sagad.sock` inside it.
  static let systemdSocketPath = "/run/sagad/sagad.sock"
  /// Where `make run` (`sagad --dev --state-dir .sagad`) puts it, relative to the checkout.
  static let devSocketPath = ".sagad/sagad.sock"

  static let socketOption = AdminCommandLine.Option(
    "socket", valueName: "path", help: "Path of sagad's admin socket.",
    discussion: """
      Default: $SAGAD_SOCKET when set; else ./\(devSocketPath) when it exists (what `make run` \
      creates); else \(systemdSocketPath) (sagad under systemd).
      """)
  static let jsonOption = AdminCommandLine.Option("json", help: "Print one JSON document instead of a table.")
  static let timeoutOption = AdminCommandLine.Option(
    "timeout", valueName: "seconds", isInteger: true, help: "Seconds to wait for sagad's reply.")
  static let all = [socketOption, jsonOption, timeoutOption]

  @Option(
    name: .long,
    help: ArgumentHelp(
      GlobalOptions.socketOption.help, discussion: GlobalOptions.socketOption.discussion ?? "", valueName: "path"))
  var socket: String?

  @Flag(name: .long, help: ArgumentHelp(GlobalOptions.jsonOption.help))
  var json = false

  @Option(name: .long, help: ArgumentHelp(GlobalOptions.timeoutOption.help, valueName: "seconds"))
  var timeout: Int?

  /// The socket to use when none was given.
  static func defaultSocketPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
    if let path = environment["SAGAD_SOCKET"], !path.isEmpty { return path }
    if FileManager.default.fileExists(atPath: devSocketPath) { return devSocketPath }
    return systemdSocketPath
  }
}
