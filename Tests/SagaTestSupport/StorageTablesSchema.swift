public import GRDB
public import SagaStorage

/// A service database with nothing of its own: only the storage tables (outbox, inbox, retry
/// schedule, dead-letter marks), which the store tests run against on PostgreSQL, as
/// `SagaDatabase(configuration)` gives them on SQLite; and the relay tests on PostgreSQL.
public enum StorageTablesSchema: ServiceSchema {
  /// Created by the retention test itself.
  public static let timelineTable = "steps"
  public static let postgresSchema = "storage"
  public static let postgresMigrations: [PostgresMigration] = []

  public static func register(in migrator: inout DatabaseMigrator) {}
}
