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

extension StorageTablesSchema {
  /// ``ServiceSchema/twoInstanceDatabases(_:)`` of the storage tables alone.
  public static func twoInstances<T>(_ body: (SagaDatabase, SagaDatabase) async throws -> T) async throws -> T {
    try await twoInstanceDatabases { first, second in try await body(first.storage, second.storage) }
  }
}

extension ServiceSchema {
  /// Two instances' databases of the service on one fresh database of the suite's server (the
  /// trait `.postgresServer`), as two sagads of a role share it, each with its own engine and
  /// connections: `body` gets the first and the second, both closed when it returns.
  public static func twoInstanceDatabases<T>(
    _ body: (ServiceDatabase<Self>, ServiceDatabase<Self>) async throws -> T
  ) async throws -> T {
    let configuration = try await PostgresServer.suiteServer().freshDatabase()
    let first = try await ServiceDatabase<Self>.open(postgres: configuration, logger: quietLogger)
    return try await first.storage.closing {
      let second = try await ServiceDatabase<Self>.open(postgres: configuration, logger: quietLogger)
      return try await second.storage.closing { try await body(first, second) }
    }
  }
}
