public import GRDB

/// What is a service's own in its database: its tables, as GRDB migrations that run after
/// the storage tables', and the table of its saga timeline. `ServiceDatabase` does the rest
/// (opening, migrating, reading, writing), the same for every service.
public protocol ServiceSchema {
  /// The service's saga timeline (`sagactl saga`), purged after `timeline.retention`.
  static var timelineTable: String { get }

  /// Registers the service's migrations in `migrator`. Identifiers never change (existing
  /// databases open as they are) and start with the service's name, so they never collide
  /// with the storage migrations or another service's in a shared migrator.
  static func register(in migrator: inout DatabaseMigrator)

  /// The service's PostgreSQL schema name (`payments`, `points`): one schema per service, so
  /// the storage tables of two services sharing a database never meet.
  static var postgresSchema: String { get }

  /// The service's own tables on PostgreSQL, after the storage tables' migrations; identifiers
  /// start with the service's name, as on SQLite.
  static var postgresMigrations: [PostgresMigration] { get }
}
