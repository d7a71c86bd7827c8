/// How a service opens its SQLite database (Docs/configuration.md, `storage.*` keys).
public struct StorageConfiguration: Sendable, Equatable {
  /// SQLite's `PRAGMA synchronous` levels that make sense for a WAL database.
  ///
  /// `OFF` is deliberately missing: it risks corrupting the file on power loss,
  /// which no setting of a payments daemon should allow.
  public enum Synchronous: String, Sendable, Equatable, CaseIterable {
    /// Every commit fsyncs the WAL: a committed transaction survives power loss.
    case full
    /// The WAL is fsynced only at checkpoints: the file stays consistent, but the
    /// last transactions before a power loss (not a process crash) may roll back.
    case normal

    /// The value `PRAGMA synchronous` reports for this level.
    public var pragmaValue: Int {
      switch self {
      case .full: 2
      case .normal: 1
      }
    }
  }

  /// The database file. Missing parent directories are created on open.
  public var path: String
  /// Durability of a commit; see ``SagaDatabase`` for the trade-off.
  public var synchronous: Synchronous
  /// How long a write waits for a lock held by another connection or process
  /// before it fails with a retriable ``StorageError``. Zero fails at once.
  public var busyTimeout: Duration
  /// Concurrent reader connections. Reads never block the writer in WAL mode, so
  /// this only bounds how many admin queries and metric scrapes run at once.
  /// Values below 1 are raised to 1.
  public var readers: Int

  public init(
    path: String,
    synchronous: Synchronous = .full,
    busyTimeout: Duration = .seconds(5),
    readers: Int = 4
  ) {
    self.path = path
    self.synchronous = synchronous
    self.busyTimeout = busyTimeout
    self.readers = readers
  }
}
