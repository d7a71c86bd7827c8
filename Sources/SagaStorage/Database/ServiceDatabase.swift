public import GRDB
public import Logging

/// One service's database (GRDB's AppDatabase pattern): it owns the migrations (the storage
/// tables, then `Schema`'s) and takes any `DatabaseWriter`: the file pool
/// `SagaDatabase.openPool(_:)` opens in production, an in-memory `DatabaseQueue()` in unit
/// tests. The service's SQL runs through it, in its store types, so a second engine plugs in
/// here. Each service names its own (`PaymentsDatabase`, `PointsDatabase`) by its schema.
public final class ServiceDatabase<Schema: ServiceSchema>: Sendable {
  /// The service's saga timeline (`sagactl saga`), purged after `timeline.retention`.
  public static var timelineTable: String { Schema.timelineTable }

  /// The storage side the runtime's relay and workers use: outbox, inbox, retry schedule.
  public let storage: SagaDatabase

  /// Migrates `writer` to the current schema and keeps it.
  /// - Throws: `StorageError` when a migration or the write check fails.
  public init(_ writer: any DatabaseWriter) throws {
    storage = try SagaDatabase(writer, migrator: Self.migrator)
  }

  /// Opens (creating and migrating if needed) the database file `configuration` names.
  /// - Throws: `StorageError` naming the file.
  public convenience init(opening configuration: StorageConfiguration) throws {
    try self.init(SagaDatabase.openPool(configuration))
  }

  /// Opens a stopped instance's file for a tool that must be its only user, without migrating
  /// or writing it (see `SagaDatabase.init(exclusive:migrator:)`).
  /// - Throws: `StorageError` naming the file (`.busy` while another process has it open).
  public convenience init(exclusive path: String) throws {
    self.init(storage: try SagaDatabase(exclusive: path, migrator: Self.migrator))
  }

  /// Opens the service's schema on PostgreSQL, creating and migrating it if needed.
  /// - Throws: `StorageError` (`.unavailable` while the server cannot be reached).
  public static func open(
    postgres configuration: PostgresStorageConfiguration, logger: Logger
  ) async throws -> ServiceDatabase {
    let engine = try await PostgresEngine.open(
      configuration, schema: Schema.postgresSchema, migrations: postgresMigrations, logger: logger)
    return ServiceDatabase(storage: SagaDatabase(postgres: engine))
  }

  /// Every PostgreSQL migration of the service's schema: the storage tables', then `Schema`'s.
  public static var postgresMigrations: [PostgresMigration] {
    StorageMigrations.postgres + Schema.postgresMigrations
  }

  private init(storage: SagaDatabase) {
    self.storage = storage
  }

  /// Every migration of the service's database, in order: the storage tables, then
  /// `Schema`'s (identifiers never change: existing databases open as they are).
  public static var migrator: DatabaseMigrator {
    SagaDatabase.migrator(Schema.register(in:))
  }

  /// Runs `updates` in one write transaction; see `SagaDatabase.write(_:)`.
  public func write<T: Sendable>(_ updates: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
    try await storage.write(updates)
  }

  /// Runs `updates` as one atomic write; see `SagaDatabase.writeInOneStatement(_:)`.
  public func writeInOneStatement<T: Sendable>(
    _ updates: @escaping @Sendable (any SQLConnection) throws -> T
  ) async throws -> T {
    try await storage.writeInOneStatement(updates)
  }

  /// Runs `value` in a read transaction; see `SagaDatabase.read(_:)`.
  public func read<T: Sendable>(_ value: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
    try await storage.read(value)
  }
}
