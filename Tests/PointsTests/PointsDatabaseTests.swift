import GRDB
import Points
import SagaStorage
import SagaTestSupport
import Testing

/// The storage seam: a Points database migrates one schema on any `DatabaseWriter`, so the
/// unit tests' in-memory databases are what sagad runs on disk, where the file is opened
/// WAL with `synchronous=FULL`.
@Suite("Points: database")
struct PointsDatabaseTests {
  /// The migrations databases in the field have run: their identifiers never change.
  private static let released = [
    "storage-v1-outbox", "storage-v1-inbox", "storage-v1-failed-messages", "storage-v2-retry-schedule",
    "storage-v2-dead-lettered", "points-v1-accounts-ledger-failures", "points-v2-saga-steps",
  ]

  private static func schema(_ database: PointsDatabase) async throws -> [String] {
    try await database.storage.read { db in
      try String.fetchAll(
        db,
        sql: """
          SELECT type || ' ' || name || ': ' || COALESCE(sql, '') FROM sqlite_master
          WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name
          """)
    }
  }

  @Test("on disk: WAL, synchronous=FULL on the writer, foreign keys on; the same schema as in memory")
  func onDisk() async throws {
    let directory = try TemporaryDirectory()
    let onDisk = try PointsDatabase(opening: StorageConfiguration(path: directory.path + "/points.sqlite"))
    let (journal, synchronous, foreignKeys) = try await onDisk.storage.writer.write { db in
      (
        try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"),
        try Bool.fetchOne(db, sql: "PRAGMA foreign_keys")
      )
    }
    #expect(journal == "wal")
    #expect(synchronous == StorageConfiguration.Synchronous.full.pragmaValue)
    #expect(foreignKeys == true)

    let inMemory = try PointsDatabase(DatabaseQueue())
    let schema = try await Self.schema(onDisk)
    #expect(
      schema.contains { $0.hasPrefix("table point_ledger: ") } && schema.contains { $0.hasPrefix("table outbox: ") })
    #expect(try await Self.schema(inMemory) == schema)
  }

  @Test("the released migrations keep their identifiers and order, and a migrated database reopens unchanged")
  func migrationIdentifiers() async throws {
    #expect(PointsDatabase.migrator.migrations.filter(Self.released.contains) == Self.released)
    let queue = try DatabaseQueue()
    let first = try PointsDatabase(queue)
    let applied = try await first.storage.read { db in
      try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
    }
    #expect(applied == PointsDatabase.migrator.migrations)
    let schema = try await Self.schema(first)
    #expect(try await Self.schema(PointsDatabase(queue)) == schema)
  }
}
