import GRDB
import Payments
import SagaStorage
import SagaTestSupport
import Testing

/// The storage seam: a Payments database migrates one schema on any `DatabaseWriter`, so the
/// unit tests' in-memory databases are what sagad runs on disk, where the file is opened
/// WAL with `synchronous=FULL`.
@Suite("Payments: database")
struct PaymentsDatabaseTests {
  /// The migrations databases in the field have run: their identifiers never change.
  private static let released = [
    "storage-v1-outbox", "storage-v1-inbox", "storage-v1-failed-messages", "storage-v2-retry-schedule",
    "storage-v2-dead-lettered", "payments-v1", "payments-v2-recovery", "payments-v3-null-refund-reason",
    "payments-v4-peers",
  ]

  private static func schema(_ database: PaymentsDatabase) async throws -> [String] {
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
    let onDisk = try PaymentsDatabase(opening: StorageConfiguration(path: directory.path + "/payments.sqlite"))
    let (journal, synchronous, foreignKeys) = try await onDisk.storage.writer.write { db in
      (
        try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"),
        try Bool.fetchOne(db, sql: "PRAGMA foreign_keys")
      )
    }
    #expect(journal == "wal")
    #expect(synchronous == StorageConfiguration.Synchronous.full.pragmaValue)
    #expect(foreignKeys == true)

    let inMemory = try PaymentsDatabase(DatabaseQueue())
    let schema = try await Self.schema(onDisk)
    #expect(schema.contains { $0.hasPrefix("table payments: ") } && schema.contains { $0.hasPrefix("table outbox: ") })
    #expect(try await Self.schema(inMemory) == schema)
  }

  @Test("the released migrations keep their identifiers and order, and a migrated database reopens unchanged")
  func migrationIdentifiers() async throws {
    #expect(PaymentsDatabase.migrator.migrations.filter(Self.released.contains) == Self.released)
    let queue = try DatabaseQueue()
    let first = try PaymentsDatabase(queue)
    let applied = try await first.storage.read { db in
      try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
    }
    #expect(applied == PaymentsDatabase.migrator.migrations)
    let schema = try await Self.schema(first)
    #expect(try await Self.schema(PaymentsDatabase(queue)) == schema)
  }
}
