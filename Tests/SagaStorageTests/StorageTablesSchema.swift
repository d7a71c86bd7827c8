import GRDB
import SagaStorage

/// A service database with nothing of its own: only the storage tables (outbox, inbox, retry
/// schedule, dead-letter marks), which the store tests run against on PostgreSQL, as
/// `SagaDatabase(configuration)` gives them on SQLite.
enum StorageTablesSchema: ServiceSchema {
  /// Created by the retention test itself.
  static let timelineTable = "steps"
  static let postgresSchema = "storage"
  static let postgresMigrations: [PostgresMigration] = []

  static func register(in migrator: inout DatabaseMigrator) {}
}
