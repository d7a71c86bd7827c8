import SagaStorage
import SagaTestSupport
import Testing

/// Schema migrations on PostgreSQL (Docs/storage-engines.md, "Starting, migrations, versions"):
/// instances starting together migrate once, under the advisory lock, and a schema written by a
/// newer sagad refuses the start.
@Suite("PostgreSQL migrations", .postgresServer, .timeLimit(.minutes(2)))
struct PostgresMigrationTests {
  @Test("three instances opening one empty database at once: every one opens, each migration is applied once")
  func concurrentStarts() async throws {
    let configuration = try await PostgresServer.suiteServer().freshDatabase()
    async let first = ServiceDatabase<StorageTablesSchema>.open(postgres: configuration, logger: quietLogger)
    async let second = ServiceDatabase<StorageTablesSchema>.open(postgres: configuration, logger: quietLogger)
    async let third = ServiceDatabase<StorageTablesSchema>.open(postgres: configuration, logger: quietLogger)
    let databases = try await [first, second, third]
    let applied = try await databases[0].read { db in
      try db.query("SELECT id FROM sagad_migrations ORDER BY id").map { try $0.decode(0, as: String.self) }
    }
    #expect(applied == ServiceDatabase<StorageTablesSchema>.postgresMigrations.map(\.id).sorted())
    // The tables work from every instance.
    let claimed = try await databases[1].write { db in
      try Inbox.claim(group: "g", eventId: "e", topic: "t", partition: 0, offset: 1, in: db)
    }
    #expect(claimed)
    for database in databases { try await database.storage.close() }
  }

  @Test("an open database has its whole pool connected: the first load does not wait for sessions to start")
  func poolOpenedAtStart() async throws {
    let configuration = try await PostgresServer.suiteServer().freshDatabase(poolSize: 3)
    let database = try await ServiceDatabase<StorageTablesSchema>.open(postgres: configuration, logger: quietLogger)
    try await database.storage.closing {
      // Asked from outside the pool, so that the question opens nothing of it.
      var single = configuration
      single.poolSize = 1
      let other = try await ServiceDatabase<StorageTablesSchema>.open(postgres: single, logger: quietLogger)
      try await other.storage.closing {
        let sessions = try await other.storage.readStatement { db in
          try db.value(
            Int.self,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
              + " AND backend_type = 'client backend'")
        }
        #expect(sessions == 3)
      }
    }
  }

  @Test("a schema holding a migration this binary does not know refuses the open, naming it")
  func newerSchemaRefused() async throws {
    let server = try PostgresServer.suiteServer()
    let configuration = try await server.freshDatabase()
    let database = try await ServiceDatabase<StorageTablesSchema>.open(postgres: configuration, logger: quietLogger)
    let schema = StorageTablesSchema.postgresSchema
    _ = try await database.write { db in
      try db.execute("INSERT INTO sagad_migrations (id, applied_at) VALUES ('storage-v99-from-the-future', 0)")
    }
    try await database.storage.close()
    let error = await #expect(throws: StorageError.self) {
      _ = try await ServiceDatabase<StorageTablesSchema>.open(postgres: configuration, logger: quietLogger)
    }
    #expect(error?.message.contains("migrated by a newer sagad") == true, "\(String(describing: error))")
    #expect(error?.message.contains("storage-v99-from-the-future") == true)
    #expect(error?.path.contains("schema \(schema)") == true)
  }
}
