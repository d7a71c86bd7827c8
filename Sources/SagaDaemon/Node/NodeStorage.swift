import Foundation
public import Logging
public import Payments
public import Points
public import SagaStorage

/// The databases of one node, opened before its parts are built (Docs/storage-engines.md): on
/// SQLite the files in the state directory, on PostgreSQL one schema per service and one for
/// the dead letters in the configured database. A PostgreSQL server that cannot be reached yet
/// is waited for, with a log line per attempt, so that a host booting sagad before its
/// database does not fail the unit; a refused login or a missing database ends the start with
/// the server's reason.
public struct NodeStorage: Sendable {
  public var payments: PaymentsDatabase?
  public var points: PointsDatabase?
  /// Nil on SQLite: the runtime opens `dlt.sqlite` on first use.
  public var deadLetters: DeadLetterStore?

  public init(payments: PaymentsDatabase? = nil, points: PointsDatabase? = nil, deadLetters: DeadLetterStore? = nil) {
    self.payments = payments
    self.points = points
    self.deadLetters = deadLetters
  }

  /// Opens what `configuration`'s roles need on PostgreSQL; nothing on SQLite.
  /// - Parameter waiting: called before each new attempt while PostgreSQL is unreachable,
  ///   with the error and the delay (the daemon reports it to systemd as its status).
  /// - Throws: `StorageError`; never `.unavailable` unless the task is cancelled.
  public static func open(
    _ configuration: SagaNodeConfiguration, logger: Logger,
    waiting: @escaping @Sendable (StorageError, Duration) -> Void = { _, _ in }
  ) async throws -> NodeStorage {
    // SQLite: the roles open their files as they are built (synchronously, in the state directory).
    guard var postgres = configuration.postgres else { return NodeStorage() }
    // Each instance's sessions carry its name, so `status` (pg_stat_activity) tells the
    // instances apart and names the holder of each lease.
    if postgres.applicationName == PostgresStorageConfiguration().applicationName {
      postgres.applicationName = instanceName
    }
    let open = Reconnecting(configuration: postgres, logger: logger, waiting: waiting)
    var storage = NodeStorage()
    if configuration.roles.contains(.payments) {
      storage.payments = try await open { try await PaymentsDatabase.open(postgres: postgres, logger: logger) }
    }
    if configuration.roles.contains(.points) {
      storage.points = try await open { try await PointsDatabase.open(postgres: postgres, logger: logger) }
    }
    storage.deadLetters = try await open { try await DeadLetterStore.open(postgres: postgres, logger: logger) }
    logger.info(
      "storage: PostgreSQL", metadata: ["url": "\(postgres.redactedURL)", "pool": "\(postgres.poolSize) per schema"])
    return storage
  }

  /// `sagad@<host>:<pid>`: this process among the instances sharing a database.
  public static var instanceName: String {
    String("sagad@\(ProcessInfo.processInfo.hostName):\(getpid())".prefix(63))
  }

  /// Retries an opening while the server is unreachable: 1 s, doubling, at most 30 s apart.
  private struct Reconnecting {
    let configuration: PostgresStorageConfiguration
    let logger: Logger
    let waiting: @Sendable (StorageError, Duration) -> Void

    func callAsFunction<T>(_ open: () async throws -> T) async throws -> T {
      var delay = Duration.seconds(1)
      while true {
        do {
          return try await open()
        } catch let error as StorageError where error.kind == .unavailable {
          logger.warning(
            "PostgreSQL cannot be reached; sagad is not ready and tries again",
            metadata: [
              "url": "\(configuration.redactedURL)", "error": "\(error.message)", "retryIn": "\(delay)",
            ])
          waiting(error, delay)
          // A real wait for an outside server, not a test's: nothing to await but time.
          try await Task.sleep(for: delay)
          delay = min(delay * 2, .seconds(30))
        }
      }
    }
  }
}
