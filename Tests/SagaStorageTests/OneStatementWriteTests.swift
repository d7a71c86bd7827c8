import Foundation
import GRDB
import SagaTestSupport
import Testing

@testable import SagaStorage

/// `SagaDatabase.writeInOneStatement`: on PostgreSQL its reads run on their own and its held
/// writes go as one statement at the end, so whatever would send them earlier (and commit
/// part of the write in autocommit) must be refused with nothing written.
@Suite("PostgreSQL writes of one statement", .postgresServer, .timeLimit(.minutes(2)))
struct OneStatementWriteTests {
  private static let insert = inboxInsert
  private static let deadLettered = """
    INSERT INTO dead_lettered (consumer_group, topic, "partition", "offset", failure_class, reason_code, attempts,
      dead_lettered_at)
    VALUES (?, 'reservation-completed', 0, ?, 'poison', 'test', 1, 0)
    """

  private static func roundTrips(_ db: any SQLConnection) throws -> Int {
    try #require(db as? PostgresSQLConnection).roundTrips
  }

  private static func counts(_ database: SagaDatabase) async throws -> (inbox: Int64, letters: Int64) {
    let row = try await database.read { db in
      try #require(try db.query("SELECT (SELECT count(*) FROM inbox), (SELECT count(*) FROM dead_lettered)").first)
    }
    return (try row.decode(0), try row.decode(1))
  }

  @Test("each read on its own, then the held writes as one statement: no BEGIN nor COMMIT, all written")
  func readsThenWrites() async throws {
    try await withOneConnection { database in
      // Twice: the first time the statements' PREPAREs go too, unanswered.
      for round: Int64 in 1...2 {
        let before = try await database.readStatement { db in try Self.roundTrips(db) }
        let (first, second) = try await database.writeInOneStatement { db -> (String, String) in
          #expect(!db.keepsLocks, "a read's locks end with it")
          let first: String = try #require(try db.query("SELECT pg_current_xact_id()::text").first).decode(0)
          let second: String = try #require(try db.query("SELECT pg_current_xact_id()::text").first).decode(0)
          try db.executeDeferred(Self.insert, ["g", "e\(round)a", round])
          try db.executeDeferred(Self.insert, ["g", "e\(round)b", round])
          try db.executeDeferred(Self.deadLettered, ["g", round])
          return (first, second)
        }
        let after = try await database.readStatement { db in try Self.roundTrips(db) }
        #expect(try await database.write { db in db.keepsLocks })
        #expect(first != second, "each read is a transaction of its own, not one that a BEGIN opened")
        #expect(after - before == 3, "the two reads and the writes' one statement")
      }
      let (inbox, letters) = try await Self.counts(database)
      #expect(inbox == 4 && letters == 2)
    }
  }

  @Test("a statement behind held writes is refused, and nothing of the write is written")
  func statementAfterHeldWrites() async throws {
    try await withOneConnection { database in
      let refused = await #expect(throws: StorageError.self) {
        try await database.writeInOneStatement { db in
          try db.executeDeferred(Self.insert, ["g", "held", 1])
          _ = try db.query("SELECT count(*) FROM dead_lettered")
        }
      }
      #expect(refused?.kind == .other && refused?.isRetriable == false)
      #expect(refused?.message.contains("a statement after held writes") == true, "\(refused?.message ?? "")")
      let (inbox, _) = try await Self.counts(database)
      #expect(inbox == 0)
      // The connection is clean again: a transaction and a write of one statement after it.
      try await database.write { db in _ = try db.execute(Self.insert, ["g", "after", 2]) }
      try await database.writeInOneStatement { db in try db.executeDeferred(Self.insert, ["g", "again", 3]) }
      #expect(try await Self.counts(database).inbox == 2)
    }
  }

  @Test(
    "a write that would run at once, or a second one of a table that cannot join the first, is refused; nothing written",
    arguments: ["a write run at once", "a write that cannot be held", "a second write of the table"])
  func refusedWrites(_ kind: String) async throws {
    try await withOneConnection { database in
      let refused = await #expect(throws: StorageError.self) {
        try await database.writeInOneStatement { db in
          switch kind {
          case "a write run at once":
            _ = try db.execute(Self.insert, ["g", "alone", 1])
          case "a write that cannot be held":
            // A DELETE is never held: it would commit on its own.
            try db.executeDeferred("DELETE FROM inbox WHERE event_id = ?", ["alone"])
          default:
            // Another text of the same table cannot join the held one: it would send it first.
            try db.executeDeferred(Self.deadLettered, ["g", 1])
            try db.executeDeferred(Self.insert, ["g", "first", 1])
            try db.executeDeferred("UPDATE inbox SET processed_at = ? WHERE event_id = ?", [5, "first"])
          }
        }
      }
      #expect(refused?.kind == .other, "\(kind)")
      #expect(refused?.message.contains("a write of one statement cannot take") == true, "\(refused?.message ?? "")")
      let (inbox, letters) = try await Self.counts(database)
      #expect(inbox == 0 && letters == 0, "\(kind)")
    }
  }

  @Test("the one statement fails as a whole: a unique key broken by one row leaves the others unwritten")
  func failsAsAWhole() async throws {
    try await withOneConnection { database in
      try await database.write { db in _ = try db.execute(Self.insert, ["g", "taken", 1]) }
      let failed = await #expect(throws: StorageError.self) {
        try await database.writeInOneStatement { db in
          try db.executeDeferred(Self.deadLettered, ["g", 7])
          try db.executeDeferred(Self.insert, ["g", "fresh", 2])
          try db.executeDeferred(Self.insert, ["g", "taken", 3])
        }
      }
      #expect(failed?.kind == .constraint)
      let (inbox, letters) = try await Self.counts(database)
      #expect(inbox == 1 && letters == 0)
    }
  }

  @Test("a standby's write of one statement announces its outbox rows with it; a failed one announces nothing")
  func announced() async throws {
    try await StorageTablesSchema.twoInstances { holder, standby in
      let listener = try await AnnouncementListener.start(on: holder)
      defer { listener.cancel() }
      standby.announceOutboxWrites(true)
      try await standby.write { db in _ = try db.execute(Self.insert, ["g", "taken", 1]) }
      let nextID = "SELECT nextval('outbox_id_seq')"
      await #expect(throws: StorageError.self) {
        try await standby.writeInOneStatement { db in
          let id: Int64 = try #require(try db.query(nextID).first).decode(0)
          try Outbox.appendDeferred(message(), id: id, in: db)
          try db.executeDeferred(Self.insert, ["g", "taken", 2])
        }
      }
      let ids = try await standby.writeInOneStatement { db -> [Int64] in
        let ids = try db.query("SELECT nextval('outbox_id_seq') FROM generate_series(1, 2)").map {
          row -> Int64 in try row.decode(0)
        }
        for id in ids { try Outbox.appendDeferred(message(), id: id, in: db) }
        return ids
      }
      try await eventually("the announced statement is heard") { listener.announcements.count >= 1 }
      // In commit order: the failed statement's would have come first.
      #expect(listener.announcements == [OutboxAnnouncement(ids: ids)])
      #expect(try await holder.read { db in try Outbox.pending(ids: ids, in: db).map(\.id) } == ids)
      try await listener.stop()
    }
  }

  @Test("on SQLite it is a write transaction: a read after a held write sees it")
  func sqlite() async throws {
    let database = try ServiceDatabase<StorageTablesSchema>(DatabaseQueue()).storage
    let seen = try await database.writeInOneStatement { db -> Int in
      try db.executeDeferred(Self.insert, ["g", "e", 1])
      return try db.value(Int.self, "SELECT count(*) FROM inbox") ?? 0
    }
    #expect(seen == 1)
  }
}
