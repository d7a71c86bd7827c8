/// One step of a schema's PostgreSQL history (Docs/storage-engines.md, "Migrations"). SQLite
/// databases keep GRDB's migrator and their own history; a PostgreSQL schema starts at the
/// current shape, so its first step creates every table at once. Identifiers never change:
/// `sagad_migrations` records them, and a database holding one this binary does not know is
/// newer than the binary and refuses the start.
public struct PostgresMigration: Sendable, Hashable {
  public let id: String
  /// One or more statements, run in the migration's transaction.
  public let sql: String

  public init(_ id: String, _ sql: String) {
    self.id = id
    self.sql = sql
  }
}
