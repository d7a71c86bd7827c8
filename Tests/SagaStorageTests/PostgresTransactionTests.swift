import Foundation
import SagaTestSupport
import Testing

@testable import SagaStorage

/// A PostgreSQL transaction's `BEGIN` goes out with its first statement and its held writes
/// with its `COMMIT` (one wait each instead of two): the statements must still run inside the
/// transaction, a failure must still undo all of it, and the connection must come back clean.
@Suite("PostgreSQL transactions", .postgresServer, .timeLimit(.minutes(2)))
struct PostgresTransactionTests {
  private static let insert = inboxInsert

  private static func roundTrips(_ db: any SQLConnection) throws -> Int {
    try #require(db as? PostgresSQLConnection).roundTrips
  }

  private static func transactionID(_ db: any SQLConnection) throws -> String {
    try #require(try db.query("SELECT pg_current_xact_id()::text").first).decode(0)
  }

  private static let deadLettered = """
    INSERT INTO dead_lettered (consumer_group, topic, "partition", "offset", failure_class, reason_code, attempts,
      dead_lettered_at)
    VALUES (?, 'reservation-completed', 0, ?, 'poison', 'test', 1, 0)
    """

  @Test("a statement sent ahead is answered with the next one: one wait for both; its failure surfaces at both")
  func queryAhead() async throws {
    try await withOneConnection { database in
      // Twice: the first use of a statement on a connection sends its PREPARE too, unanswered.
      for _ in 0..<2 {
        let (ahead, next, waits) = try await database.write { db in
          let start = try Self.roundTrips(db)
          let pending = try db.queryAhead("SELECT ? + 1", [Int64(41)])
          let next = try Self.transactionID(db)
          let ahead: Int64 = try #require(try pending.rows().first).decode(0)
          return (ahead, next, try Self.roundTrips(db) - start)
        }
        #expect(ahead == 42 && !next.isEmpty)
        #expect(waits == 1, "the statement ahead, its PREPARE and the BEGIN went with the next one")
      }
      try await database.write { db in _ = try db.execute(Self.insert, ["g", "taken", 1]) }
      let failed = await #expect(throws: StorageError.self) {
        try await database.write { db in
          let pending = try db.queryAhead(Self.insert + " RETURNING event_id", ["g", "taken", 2])
          let next = #expect(throws: StorageError.self) { try Self.transactionID(db) }
          #expect(next?.kind == .constraint, "the next awaited statement reports the failure ahead of it")
          _ = try pending.rows()
        }
      }
      #expect(failed?.kind == .constraint)
      #expect(try await database.read { db in try Inbox.count(in: db) } == 1)
    }
  }

  @Test("a read that opens a transaction runs inside it: two statements, one transaction, two waits")
  func firstStatementInside() async throws {
    try await withOneConnection { database in
      // Twice: the first use of a statement on a connection sends its PREPARE too, unanswered.
      for _ in 0..<2 {
        let (first, second, waits) = try await database.write { db in
          let start = try Self.roundTrips(db)
          let first = try Self.transactionID(db)
          let second = try Self.transactionID(db)
          return (first, second, try Self.roundTrips(db) - start)
        }
        #expect(first == second, "the first SELECT ran outside the transaction its BEGIN opened")
        #expect(waits == 2, "BEGIN and the PREPARE went with the first statement")
      }
      let level = try await database.read { db -> String in
        try #require(try db.query("SELECT current_setting('transaction_isolation')").first).decode(0)
      }
      #expect(level == "repeatable read")
    }
  }

  @Test("a transaction that sends nothing costs no round trip, and one of held writes only is one statement")
  func nothingAndHeldOnly() async throws {
    try await withOneConnection { database in
      let before = try await database.readStatement { db in try Self.roundTrips(db) }
      try await database.write { _ in }
      try await database.write { db in
        try db.executeDeferred(Self.insert, ["g", "a", 1])
        try db.executeDeferred(Self.deadLettered, ["g", 1])
      }
      let after = try await database.readStatement { db in try Self.roundTrips(db) }
      // The held writes' statement, its PREPARE in front: no BEGIN, no COMMIT, nothing for the
      // empty one.
      #expect(after - before == 1)
      let counts = try await database.read { db in
        try #require(
          try db.query("SELECT (SELECT count(*) FROM inbox), (SELECT count(*) FROM dead_lettered)").first)
      }
      #expect(try counts.decode(0) as Int64 == 1)
      #expect(try counts.decode(1) as Int64 == 1)
    }
  }

  @Test("held writes that fail together as one statement leave nothing behind")
  func heldOnlyFailure() async throws {
    try await withOneConnection { database in
      try await database.write { db in _ = try db.execute(Self.insert, ["g", "taken", 1]) }
      let error = await #expect(throws: StorageError.self) {
        try await database.write { db in
          try db.executeDeferred(Self.deadLettered, ["g", 7])
          try db.executeDeferred(Self.insert, ["g", "taken", 3])
        }
      }
      #expect(error?.kind == .constraint)
      let letters = try await database.read { db in
        try #require(try db.query("SELECT count(*) FROM dead_lettered").first).decode(0) as Int64
      }
      #expect(letters == 0, "the failing insert's sibling was undone with it")
    }
  }

  @Test("held writes that fail in front of COMMIT roll the transaction back and leave the session usable")
  func failureBeforeCommit() async throws {
    try await withOneConnection { database in
      try await database.write { db in _ = try db.execute(Self.insert, ["g", "taken", 1]) }
      let error = await #expect(throws: StorageError.self) {
        try await database.write { db in
          try db.execute(Self.insert, ["g", "sent", 2])
          try db.executeDeferred(Self.insert, ["g", "taken", 3])
        }
      }
      #expect(error?.kind == .constraint)
      // The pool's one connection is the one whose COMMIT answered ROLLBACK: a session left
      // in the aborted transaction would fail this write.
      try await database.write { db in _ = try db.execute(Self.insert, ["g", "after", 4]) }
      let ids = try await database.read { db in
        try db.query("SELECT event_id FROM inbox ORDER BY event_id").map { row -> String in try row.decode(0) }
      }
      #expect(ids == ["after", "taken"])
    }
  }

  @Test("held writes that make room for more go unanswered: one wait for many, a failure surfaces at the next wait")
  func unansweredWrites() async throws {
    try await withOneConnection { database in
      try await database.write { db in _ = try db.execute(Self.insert, ["g", "taken", 1]) }
      // One row updated again and again: an update of a row the held one updates cannot join
      // it, so each sends the one before on, unanswered.
      let bump = #"UPDATE inbox SET "offset" = "offset" + 1 WHERE consumer_group = ?"#
      for _ in 0..<2 {
        let waits = try await database.write { db -> Int in
          let start = try Self.roundTrips(db)
          for _ in 1...5 { try db.executeDeferred(bump, ["g"]) }
          #expect(db.hasDeferredWrites)
          return try Self.roundTrips(db) - start
        }
        // BEGIN, awaited before the first write (a PREPARE the first time goes unanswered).
        #expect(waits == 1)
      }
      let offset = try await database.read { db in
        try #require(try db.query(#"SELECT "offset" FROM inbox"#).first).decode(0) as Int64
      }
      #expect(offset == 11)

      let failure = await #expect(throws: StorageError.self) {
        try await database.write { db in
          try db.executeDeferred(Self.insert, ["g", "taken", 2])
          try db.executeDeferred(bump, ["g"])
          #expect(db.hasDeferredWrites, "a write sent unanswered may still fail")
          defer { #expect(db.lastFailureCarriedDeferredWrites) }
          _ = try db.query("SELECT 1")
        }
      }
      #expect(failure?.kind == .constraint)
      #expect(failure?.message.contains("INSERT INTO inbox") == true, "\(failure?.message ?? "")")
      #expect(try await database.read { db in try Inbox.count(in: db) } == 1)
    }
  }

  /// A `pay` group and a consume batch lock their accounts first: the lock's answer is not
  /// read, so it goes in front of the decisions' read, one wait for both.
  @Test("a row lock goes unanswered in front of the next statement, inside the transaction; its failure surfaces there")
  func unansweredLock() async throws {
    try await withOneConnection { database in
      let held = "SELECT count(*) FROM pg_locks WHERE relation = 'outbox'::regclass AND pid = pg_backend_pid()"
      for _ in 0..<2 {
        let (locks, waits) = try await database.write { db -> (Int64, Int) in
          let start = try Self.roundTrips(db)
          try db.lockInKeyOrder(table: "outbox", column: "id", keys: [2, 1, 2])
          let locks: Int64 = try #require(try db.query(held).first).decode(0)
          return (locks, try Self.roundTrips(db) - start)
        }
        // Held until the end of the transaction: the lock ran inside it, not on its own.
        #expect(locks > 0)
        // The PREPAREs too, the first time.
        #expect(waits == 1, "BEGIN, the lock and the read: one wait")
      }
      let failure = await #expect(throws: StorageError.self) {
        try await database.write { db in
          try db.sendUnanswered("SELECT no_such_column FROM outbox FOR UPDATE", [])
          #expect(db.hasDeferredWrites, "a statement sent unanswered may still fail")
          // Reported by the next statement, but not as that statement's own (a record's) failure.
          defer { #expect(db.lastFailureCarriedDeferredWrites) }
          _ = try db.query("SELECT 1")
        }
      }
      #expect(failure?.message.contains("no_such_column") == true, "\(failure?.message ?? "")")
      #expect(try await database.read { db in try db.query("SELECT 1").count } == 1)
    }
  }

  @Test("which statements go unanswered behind BEGIN: reads and SAVEPOINT, never a write")
  func followers() {
    #expect(PostgresSQLConnection.mayFollowUnansweredBegin("SELECT 1"))
    #expect(PostgresSQLConnection.mayFollowUnansweredBegin("select w.balance FROM wallets w FOR UPDATE"))
    #expect(PostgresSQLConnection.mayFollowUnansweredBegin("SAVEPOINT saga"))
    #expect(!PostgresSQLConnection.mayFollowUnansweredBegin("INSERT INTO inbox VALUES (1)"))
    #expect(!PostgresSQLConnection.mayFollowUnansweredBegin("UPDATE outbox SET sent_at = 1"))
    #expect(!PostgresSQLConnection.mayFollowUnansweredBegin("WITH d1 AS (INSERT INTO t VALUES (1)) SELECT 1"))
    #expect(!PostgresSQLConnection.mayFollowUnansweredBegin("SELECTED"))
  }
}
