import Foundation
import GRDB
import Logging
import NIOPosix
import PostgresNIO
import SagaStorage
import SagaTestSupport
import Testing

/// The inbox's behaviour on both storage engines, through the seam (issue 14): the first store
/// of the conformance suite every store will join.
@Suite("Inbox on SQLite and PostgreSQL", .timeLimit(.minutes(2)))
struct InboxConformanceTests {
  /// PostgreSQL's inbox table, as its migration will create it.
  static let postgresInbox = """
    CREATE TABLE inbox (
      consumer_group TEXT NOT NULL,
      event_id TEXT NOT NULL,
      topic TEXT NOT NULL,
      "partition" INTEGER NOT NULL,
      "offset" BIGINT NOT NULL,
      processed_at BIGINT NOT NULL,
      PRIMARY KEY (consumer_group, event_id)
    );
    CREATE INDEX inbox_processed_at ON inbox(processed_at);
    """

  /// What the inbox answers to one sequence of calls, the same on every engine: a claim, its
  /// redelivery (elsewhere), another group's claim, two lookups, the count, a purge, the count.
  static func scenario(_ db: some SQLConnection) throws -> [String] {
    let now = Date(timeIntervalSince1970: 1_767_225_600)
    return [
      "\(try Inbox.claim(group: "g", eventId: "e1", topic: "t", partition: 0, offset: 1, at: now, in: db))",
      "\(try Inbox.claim(group: "g", eventId: "e1", topic: "t", partition: 2, offset: 9, at: now, in: db))",
      "\(try Inbox.claim(group: "other", eventId: "e1", topic: "t", partition: 0, offset: 1, at: now, in: db))",
      "\(try Inbox.contains(group: "g", eventId: "e1", in: db))",
      "\(try Inbox.contains(group: "g", eventId: "e2", in: db))",
      "\(try Inbox.count(in: db))",
      "\(try Inbox.purge(olderThan: now.addingTimeInterval(1), in: db))",
      "\(try Inbox.count(in: db))",
    ]
  }

  static let expected = ["true", "false", "true", "true", "false", "2", "2", "0"]

  @Test("SQLite, in memory, migrated as a service database is")
  func sqlite() throws {
    let database = try SagaDatabase(DatabaseQueue(), migrator: SagaDatabase.migrator(storageTables: true) { _ in })
    #expect(try database.sqlite!.write { db in try Self.scenario(db) } == Self.expected)
  }

  @Test("PostgreSQL, a throwaway server, through PostgresNIO on a thread of its own")
  func postgres() async throws {
    let server = try await PostgresServer.start()
    defer { server.stop() }
    try await server.psql(Self.postgresInbox)
    let logger = Logger(label: "inbox-conformance")
    let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let pool = NIOThreadPool(numberOfThreads: 1)
    pool.start()
    let connection = try await PostgresConnection.connect(
      on: loops.next(),
      configuration: .init(
        host: "127.0.0.1", port: server.port, username: "sagad", password: nil, database: "sagad", tls: .disable),
      id: 1, logger: logger
    ).get()
    do {
      let sql = PostgresSQLConnection(connection, logger: logger)
      // The seam is synchronous: it runs on the pool's thread, never on the cooperative pool.
      let answers = try await pool.runIfActive { try Self.scenario(sql) }
      #expect(answers == Self.expected)
      try await connection.close()
    } catch {
      // Closed on failure too: PostgresNIO traps when an open connection is released, which
      // would end the whole test process instead of failing this test.
      try? await connection.close()
      Issue.record("PostgreSQL log:\n\(server.logText.suffix(3000))")
      throw error
    }
    try await pool.shutdownGracefully()
    try await loops.shutdownGracefully()
  }
}
