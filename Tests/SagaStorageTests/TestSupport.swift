import Foundation
import GRDB
import SagaCore
import SagaStorage
import SagaTestSupport

/// A fresh ``SagaDatabase`` in a temporary directory.
func withDatabase<T>(
  synchronous: StorageConfiguration.Synchronous = .full,
  migrations: (inout DatabaseMigrator) -> Void = { _ in },
  _ body: (SagaDatabase) async throws -> T
) async throws -> T {
  try await TemporaryDirectory.with { directory in
    let database = try SagaDatabase(
      StorageConfiguration(path: directory.appending("test.sqlite").path, synchronous: synchronous),
      migrations: migrations)
    return try await body(database)
  }
}

/// A fresh ``SagaDatabase`` holding the storage tables on `engine`: a file in a temporary
/// directory on SQLite, a database of its own on the suite's server (`.postgresServer`) on
/// PostgreSQL; closed afterwards.
func withDatabase<T>(on engine: SQLEngine, _ body: (SagaDatabase) async throws -> T) async throws -> T {
  switch engine {
  case .sqlite:
    return try await withDatabase { database in try await database.closing { try await body(database) } }
  case .postgres:
    let database = try await ServiceDatabase<StorageTablesSchema>.fresh(on: .postgres).storage
    return try await database.closing { try await body(database) }
  }
}

/// A fresh database of the storage tables on the suite's PostgreSQL server (`.postgresServer`)
/// with one connection, so that every transaction reuses the session the one before left
/// (its prepared statements, its transaction state); closed afterwards.
func withOneConnection<T>(prepares: Bool = true, _ body: (SagaDatabase) async throws -> T) async throws -> T {
  var configuration = try await PostgresServer.suiteServer().freshDatabase(poolSize: 1)
  configuration.preparedStatements = prepares
  let database = try await ServiceDatabase<StorageTablesSchema>.open(postgres: configuration, logger: quietLogger)
    .storage
  return try await database.closing { try await body(database) }
}

/// An inbox row (group, event id, offset): the plain write of the tests that count statements.
let inboxInsert = """
  INSERT INTO inbox (consumer_group, event_id, topic, "partition", "offset", processed_at)
  VALUES (?, ?, 'reservation-completed', 0, ?, 0)
  """

/// A fixed instant with whole milliseconds, so dates survive the round trip
/// through the millisecond columns exactly.
let referenceDate = Date(timeIntervalSince1970: 1_767_225_600)

/// An error of the test's own, to tell it apart from anything storage throws.
struct InjectedFailure: Error, Equatable {}

func message(_ topic: String = "reservation-completed", key: String? = "42", body: String = "{}") -> OutboxMessage {
  OutboxMessage(
    topic: topic, key: key, payload: Array(body.utf8), headers: [RecordHeader(name: "eventType", value: topic)])
}

func pendingCount(_ database: SagaDatabase) async throws -> Int {
  try await database.read { db in try Outbox.pendingCount(in: db) }
}
