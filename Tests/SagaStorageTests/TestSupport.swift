import Foundation
import GRDB
import SagaStorage

/// A directory under the system temp dir, removed when `body` returns or throws,
/// so every test works on real SQLite files of its own.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("sagad-storage-tests-\(UUID().uuidString)", isDirectory: true)
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: url) }
  return try await body(url)
}

/// A fresh ``SagaDatabase`` in a temporary directory.
func withDatabase<T>(
  synchronous: StorageConfiguration.Synchronous = .full,
  migrations: (inout DatabaseMigrator) -> Void = { _ in },
  _ body: (SagaDatabase) async throws -> T
) async throws -> T {
  try await withTemporaryDirectory { directory in
    let database = try SagaDatabase(
      StorageConfiguration(path: directory.appendingPathComponent("test.sqlite").path, synchronous: synchronous),
      migrations: migrations)
    return try await body(database)
  }
}

/// A fixed instant with whole milliseconds, so dates survive the round trip
/// through the millisecond columns exactly.
let referenceDate = Date(timeIntervalSince1970: 1_767_225_600)

/// An error of the test's own, to tell it apart from anything storage throws.
struct InjectedFailure: Error, Equatable {}

func message(_ topic: String = "reservation-completed", key: String? = "42", body: String = "{}") -> OutboxMessage {
  OutboxMessage(
    topic: topic, key: key, payload: Array(body.utf8), headers: [OutboxHeader(name: "eventType", text: topic)])
}

func pendingCount(_ database: SagaDatabase) async throws -> Int {
  try await database.read { db in try Outbox.pendingCount(in: db) }
}
