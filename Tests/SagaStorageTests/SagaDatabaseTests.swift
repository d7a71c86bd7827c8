import Foundation
import GRDB
import SagaStorage
import SagaTestSupport
import Testing

@Suite("SagaDatabase: open, migrate, pragmas", .timeLimit(.minutes(2)))
struct SagaDatabaseTests {
  private static let storageTables: Set<String> = ["outbox", "inbox", "retry_schedule", "dead_lettered"]
  private static let storageIndexes: Set<String> = [
    "outbox_unsent", "outbox_sent_at", "inbox_processed_at", "retry_schedule_due",
  ]

  private static func serviceMigrations(_ migrator: inout DatabaseMigrator) {
    migrator.registerMigration("test-v1-widgets") { db in
      try db.execute("CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    }
  }

  private static func schemaNames(type: String, in db: SagaDatabase) async throws -> Set<String> {
    try await db.read { db in
      Set(
        try db.query("SELECT name FROM sqlite_master WHERE type = ?", [type]).map { try $0.decode(0, as: String.self) })
    }
  }

  @Test("a fresh file gets every storage table and index plus the service's, under new directories")
  func freshFile() async throws {
    try await TemporaryDirectory.with { directory in
      let path = directory.appending("state/payments/db.sqlite").path
      let database = try SagaDatabase(StorageConfiguration(path: path), migrations: Self.serviceMigrations)
      #expect(FileManager.default.fileExists(atPath: path))
      #expect(database.path == path)
      let tables = try await Self.schemaNames(type: "table", in: database)
      #expect(tables.isSuperset(of: Self.storageTables.union(["widgets"])))
      let indexes = try await Self.schemaNames(type: "index", in: database)
      #expect(indexes.isSuperset(of: Self.storageIndexes))
    }
  }

  @Test("reopening runs nothing twice, keeps the data, and applies migrations added since")
  func reopen() async throws {
    try await TemporaryDirectory.with { directory in
      let configuration = StorageConfiguration(path: directory.appending("db.sqlite").path)
      let first = try SagaDatabase(configuration, migrations: Self.serviceMigrations)
      try await first.write { db in
        try db.execute("INSERT INTO widgets (name) VALUES ('kept')")
        _ = try Outbox.append(message(), in: db)
      }
      try await first.close()

      let second = try SagaDatabase(configuration, migrations: Self.serviceMigrations)
      let (widgets, pending) = try await second.read { db in
        (
          try db.query("SELECT name FROM widgets").map { try $0.decode(0, as: String.self) },
          try Outbox.pendingCount(in: db)
        )
      }
      #expect(widgets == ["kept"])
      #expect(pending == 1)
      try await second.close()

      let third = try SagaDatabase(configuration) { migrator in
        Self.serviceMigrations(&migrator)
        migrator.registerMigration("test-v2-gadgets") { db in
          try db.execute("CREATE TABLE gadgets (id INTEGER PRIMARY KEY)")
        }
      }
      let applied = try await third.read { db in
        try db.query("SELECT identifier FROM grdb_migrations ORDER BY identifier").map {
          try $0.decode(0, as: String.self)
        }
      }
      #expect(
        applied == [
          "storage-v1-failed-messages", "storage-v1-inbox", "storage-v1-outbox", "storage-v2-dead-lettered",
          "storage-v2-retry-schedule", "storage-v3-outbox-envelope-columns", "storage-v4-outbox-closed",
          "test-v1-widgets", "test-v2-gadgets",
        ])
    }
  }

  @Test(
    "synchronous is read back from the writer and the readers", arguments: StorageConfiguration.Synchronous.allCases)
  func synchronousPragma(level: StorageConfiguration.Synchronous) async throws {
    try await withDatabase(synchronous: level) { database in
      // The writer is what makes commits durable; GRDB's WAL set-up would
      // otherwise leave it at NORMAL, which this test exists to catch.
      let onWriter = try await database.sqlite!.write { db in try db.value(Int.self, "PRAGMA synchronous") }
      let onReader = try await database.read { db in try db.value(Int.self, "PRAGMA synchronous") }
      #expect(onWriter == level.pragmaValue)
      #expect(onReader == level.pragmaValue)
    }
  }

  @Test("FULL is 2 and NORMAL is 1, as SQLite numbers them")
  func pragmaValues() {
    #expect(StorageConfiguration.Synchronous.full.pragmaValue == 2)
    #expect(StorageConfiguration.Synchronous.normal.pragmaValue == 1)
    #expect(StorageConfiguration(path: "x").synchronous == .full)
  }

  @Test("journal_mode is wal, foreign keys are on, the busy timeout is applied")
  func otherPragmas() async throws {
    try await TemporaryDirectory.with { directory in
      let database = try SagaDatabase(
        StorageConfiguration(path: directory.appending("db.sqlite").path, busyTimeout: .seconds(3)))
      let (journal, foreignKeys, busyTimeout) = try await database.sqlite!.write { db in
        (
          try db.value(String.self, "PRAGMA journal_mode"),
          try db.value(Int.self, "PRAGMA foreign_keys"),
          try db.value(Int.self, "PRAGMA busy_timeout")
        )
      }
      #expect(journal == "wal")
      #expect(foreignKeys == 1)
      #expect(busyTimeout == 3000)
    }
  }

  @Test("a write that throws rolls back and rethrows the caller's own error unchanged")
  func writeRollsBack() async throws {
    try await withDatabase(migrations: Self.serviceMigrations) { database in
      await #expect(throws: InjectedFailure()) {
        try await database.write { db in
          try db.execute("INSERT INTO widgets (name) VALUES ('lost')")
          throw InjectedFailure()
        }
      }
      let count = try await database.read { db in try db.value(Int.self, "SELECT COUNT(*) FROM widgets") }
      #expect(count == 0)
    }
  }
}
