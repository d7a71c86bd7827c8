import GRDB
public import SagaStorage
public import Testing

/// What every service's database (`ServiceDatabase<Schema>`) must hold, checked the same way
/// for each: the storage seam migrates one schema on any `DatabaseWriter`, so the unit tests'
/// in-memory databases are what sagad runs on disk, where the file is opened WAL with
/// `synchronous=FULL`; and the migrations databases in the field have run keep their
/// identifiers and order. A service's test names only what is its own.
public enum ServiceDatabaseChecks<Schema: ServiceSchema> {
  /// The storage migrations databases in the field have run, before any service's own.
  public static var releasedStorageMigrations: [String] {
    [
      "storage-v1-outbox", "storage-v1-inbox", "storage-v1-failed-messages", "storage-v2-retry-schedule",
      "storage-v2-dead-lettered",
    ]
  }

  /// On disk (a file named `fileName`, as in production): WAL, `synchronous=FULL` on the
  /// writer, foreign keys on; the schema holds the outbox and `ownTable`, and is the same
  /// as in memory.
  public static func onDiskMatchesInMemory(
    fileName: String, ownTable: String, sourceLocation: SourceLocation = #_sourceLocation
  ) async throws {
    let directory = try TemporaryDirectory()
    defer { withExtendedLifetime(directory) {} }
    let onDisk = try ServiceDatabase<Schema>(opening: StorageConfiguration(path: directory.path + "/" + fileName))
    let (journal, synchronous, foreignKeys) = try await onDisk.storage.sqlite!.write { db in
      (
        try db.value(String.self, "PRAGMA journal_mode"), try db.value(Int.self, "PRAGMA synchronous"),
        try db.value(Bool.self, "PRAGMA foreign_keys")
      )
    }
    #expect(journal == "wal", sourceLocation: sourceLocation)
    #expect(synchronous == StorageConfiguration.Synchronous.full.pragmaValue, sourceLocation: sourceLocation)
    #expect(foreignKeys == true, sourceLocation: sourceLocation)

    let inMemory = try ServiceDatabase<Schema>(DatabaseQueue())
    let schema = try await Self.schema(onDisk)
    #expect(
      schema.contains { $0.hasPrefix("table \(ownTable): ") } && schema.contains { $0.hasPrefix("table outbox: ") },
      sourceLocation: sourceLocation)
    #expect(try await Self.schema(inMemory) == schema, sourceLocation: sourceLocation)
  }

  /// The released migrations (the storage ones, then the service's `released`, in order)
  /// keep their identifiers and order, a fresh database applies exactly the migrator's, and
  /// a migrated database reopens unchanged.
  public static func releasedMigrationsKept(
    _ released: [String], sourceLocation: SourceLocation = #_sourceLocation
  ) async throws {
    let released = releasedStorageMigrations + released
    let migrations = ServiceDatabase<Schema>.migrator.migrations
    #expect(migrations.filter(released.contains) == released, sourceLocation: sourceLocation)
    let queue = try DatabaseQueue()
    let first = try ServiceDatabase<Schema>(queue)
    let applied = try await first.storage.read { db in
      try db.query("SELECT identifier FROM grdb_migrations ORDER BY rowid").map { try $0.decode(0, as: String.self) }
    }
    #expect(applied == migrations, sourceLocation: sourceLocation)
    let schema = try await Self.schema(first)
    #expect(try await Self.schema(ServiceDatabase<Schema>(queue)) == schema, sourceLocation: sourceLocation)
  }

  /// Every table, index and trigger with its SQL, in a stable order.
  private static func schema(_ database: ServiceDatabase<Schema>) async throws -> [String] {
    try await database.storage.read { db in
      try db.query(
        """
        SELECT type || ' ' || name || ': ' || COALESCE(sql, '') FROM sqlite_master
        WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name
        """
      ).map { try $0.decode(0, as: String.self) }
    }
  }
}
