import CSQLite

/// SQLite's process-wide settings, which only take before the first database opens
/// (Docs/storage-engines.md, "SQLite's memory statistics").
enum SQLiteProcess {
  /// Whether the settings took: false when something in the process opened a database
  /// before sagad's first (a unit test's in-memory queue); SQLite then runs as it was.
  /// Evaluated once, by the first ``SagaDatabase/openPool(_:)``.
  static let tuned: Bool = sagad_sqlite3_disable_memory_statistics() == SQLITE_OK
}
