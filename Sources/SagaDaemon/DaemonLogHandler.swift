import Logging
import Synchronization

/// sagad's log backend: swift-log's stderr stream, with one process-wide level that
/// `log-level` and SIGHUP change while sagad runs. swift-log copies a handler into every
/// `Logger`, so a level stored in the handler could not be changed afterwards; this one
/// reads the shared level on each check (one atomic load).
struct DaemonLogHandler: LogHandler {
  private var stream: StreamLogHandler

  init(label: String) {
    stream = StreamLogHandler.standardError(label: label)
  }

  var logLevel: Logger.Level {
    get { LiveLogLevel.current }
    // A Logger that sets its own level sets everyone's: sagad has one level.
    set { LiveLogLevel.current = newValue }
  }

  var metadata: Logger.Metadata {
    get { stream.metadata }
    set { stream.metadata = newValue }
  }

  var metadataProvider: Logger.MetadataProvider? {
    get { stream.metadataProvider }
    set { stream.metadataProvider = newValue }
  }

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { stream[metadataKey: key] }
    set { stream[metadataKey: key] = newValue }
  }

  // swift-log calls the handler only for lines at or above `logLevel`.
  func log(event: LogEvent) {
    stream.log(event: event)
  }
}

/// The level every `DaemonLogHandler` reads.
enum LiveLogLevel {
  private static let storage = Atomic<UInt8>(index(of: .info))

  static var current: Logger.Level {
    get { Logger.Level.allCases[Int(storage.load(ordering: .relaxed))] }
    set { storage.store(index(of: newValue), ordering: .relaxed) }
  }

  private static func index(of level: Logger.Level) -> UInt8 {
    UInt8(Logger.Level.allCases.firstIndex(of: level) ?? 2)
  }
}
