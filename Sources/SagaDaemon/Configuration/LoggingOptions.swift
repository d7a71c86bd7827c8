public import ArgumentParser
import Foundation
import Logging
import OTel
import Synchronization

/// `--log-level`, shared by every sagad command. Logs go to stderr so stdout stays
/// machine-readable (dev-broker's bootstrap line and control replies).
public struct LoggingOptions: ParsableArguments {
  /// swift-log's levels, spelled as on the command line.
  public enum Level: String, CaseIterable, ExpressibleByArgument, Sendable {
    case trace, debug, info, notice, warning, error, critical

    var loggerLevel: Logger.Level { Logger.Level(rawValue: rawValue) ?? .info }
  }

  @Option(help: "Minimum level of log lines written to stderr (default: log.level, else info).")
  public var logLevel: Level?

  public init() {}

  /// Installs the stderr log backend once per process and returns a logger for `label`.
  /// The command line wins over `configured` (the configuration's `log.level`).
  func bootstrap(label: String, configured: Level? = nil) -> Logger {
    LoggingBootstrap.once()
    LiveLogLevel.current = (logLevel ?? configured ?? .info).loggerLevel
    return Logger(label: label)
  }
}

/// swift-log allows one bootstrap per process; this keeps a second call harmless.
private enum LoggingBootstrap {
  private static let installed = Mutex(false)

  static func once() {
    installed.withLock { installed in
      guard !installed else { return }
      installed = true
      // Lines written inside a span carry its trace_id and span_id (Docs/tracing.md); outside
      // one, or with tracing off, the provider adds nothing.
      LoggingSystem.bootstrap(
        { label, provider in
          var handler = DaemonLogHandler(label: label)
          handler.metadataProvider = provider
          return handler
        }, metadataProvider: OTel.makeLoggingMetadataProvider())
    }
  }
}

/// Writes one line to stderr, unbuffered, for messages meant for the person at the terminal.
func standardError(_ line: String) {
  try? FileHandle.standardError.write(contentsOf: Data((line + "\n").utf8))
}

/// Writes one line to stdout in a single write(2), so it is never interleaved or left
/// sitting in a buffer when a test or script reads the output through a pipe.
func standardOutput(_ line: String) {
  try? FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
}
