import GRDB
public import SagaStorage

extension ServiceDatabase {
  /// A fresh, migrated database of the service on `engine`: in memory on SQLite, a database of
  /// its own on the suite's server (the trait `.postgresServer`) on PostgreSQL. Close it when
  /// done (``SagaDatabase/closing(_:)``): a PostgreSQL engine holds connections and threads.
  public static func fresh(on engine: SQLEngine) async throws -> ServiceDatabase {
    switch engine {
    case .sqlite:
      try ServiceDatabase(DatabaseQueue())
    case .postgres:
      try await open(postgres: PostgresServer.suiteServer().freshDatabase(), logger: quietLogger)
    }
  }
}
