import Foundation

/// Brings a service's schema to this binary's shape (Docs/storage-engines.md, "Migrations").
/// Several instances start together against one database, so the work runs under a session
/// advisory lock: the first migrates, the others wait and then find nothing to do. A schema
/// that holds a migration this binary does not know was written by a newer sagad, and the
/// start is refused rather than running old code on a new shape.
struct PostgresMigrator: Sendable {
  let schema: String
  let migrations: [PostgresMigration]
  let location: String

  func migrate(_ connection: PostgresSQLConnection) throws {
    let lock = "sagad migrations \(schema)"
    try connection.execute("SELECT pg_advisory_lock(hashtext(?))", [lock])
    defer { _ = try? connection.execute("SELECT pg_advisory_unlock(hashtext(?))", [lock]) }
    let table = "\(Self.quoted(schema)).sagad_migrations"
    try connection.executeScript(
      """
      CREATE SCHEMA IF NOT EXISTS \(Self.quoted(schema));
      CREATE TABLE IF NOT EXISTS \(table) (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)
      """)
    let applied = Set(try connection.query("SELECT id FROM \(table)").map { try $0.decode(0, as: String.self) })
    let unknown = applied.subtracting(migrations.map(\.id))
    guard unknown.isEmpty else {
      throw StorageError(
        kind: .other, code: 0, path: location,
        message:
          "the schema was migrated by a newer sagad: \(unknown.sorted().joined(separator: ", ")) unknown to this "
          + "binary; run that version (or newer), or restore a backup taken before the upgrade")
    }
    for migration in migrations where !applied.contains(migration.id) {
      try connection.execute("BEGIN")
      do {
        try connection.executeScript("SET LOCAL search_path TO \(Self.quoted(schema));\n" + migration.sql)
        try connection.execute(
          "INSERT INTO \(table) (id, applied_at) VALUES (?, ?)", [migration.id, Date().millisecondsSinceEpoch])
        try connection.commit()
      } catch {
        _ = try? connection.execute("ROLLBACK")
        throw error
      }
    }
  }

  /// Schema names are checked when the configuration is read (lower-case letters, digits and
  /// `_`), so quoting is only for the reserved words among them.
  static func quoted(_ identifier: String) -> String {
    "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}
