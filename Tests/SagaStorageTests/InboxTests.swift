import Foundation
import GRDB
import SagaStorage
import SagaTestSupport
import Testing

@Suite("Inbox", .postgresServer, .timeLimit(.minutes(2)))
struct InboxTests {
  private static func claim(
    _ database: SagaDatabase, group: String = "points-service", eventId: String, offset: Int64 = 0,
    at date: Date = referenceDate
  ) async throws -> Bool {
    try await database.write { db in
      try Inbox.claim(
        group: group, eventId: eventId, topic: "reservation-completed", partition: 0, offset: offset, at: date, in: db)
    }
  }

  @Test(
    "the first claim of (group, eventId) wins, a redelivery does not, another group does", arguments: SQLEngine.allCases
  )
  func claim(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let claims = [
        try await Self.claim(database, eventId: "e-1"),
        try await Self.claim(database, eventId: "e-1", offset: 7),
        try await Self.claim(database, group: "sagad-dlt", eventId: "e-1"),
        try await Self.claim(database, eventId: "e-2"),
      ]
      #expect(claims == [true, false, true, true])
      let (seen, unseen, count) = try await database.read { db in
        (
          try Inbox.contains(group: "points-service", eventId: "e-1", in: db),
          try Inbox.contains(group: "points-service", eventId: "e-3", in: db),
          try Inbox.count(in: db)
        )
      }
      #expect(seen && !unseen)
      #expect(count == 3)
    }
  }

  @Test(
    "claimAll claims what is new, in order: not what the group applied, not a second copy in the same batch",
    arguments: SQLEngine.allCases)
  func claimAll(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      #expect(try await Self.claim(database, eventId: "e-2"))
      // Ids are any text a peer's headers carry: quotes, backslashes, braces and commas too.
      let odd = [#"q"uote"#, #"back\slash"#, "{brace},comma", "NULL", "", "ünï"]
      let ids = ["e-1", "e-2", "e-3", "e-1"] + (0..<600).map { "bulk-\($0)" } + ["bulk-599", "e-3"] + odd + odd
      let claims = ids.enumerated().map { offset, id in
        Inbox.Claim(eventId: id, topic: "reservation-completed", partition: 1, offset: Int64(offset))
      }
      let claimed = try await database.write { db in
        try Inbox.claimAll(claims, group: "points-service", at: referenceDate, in: db)
      }
      // 618 claims: the statement of 500 and the one of 118 each decide their copies.
      #expect(claimed.count == ids.count)
      #expect(Array(claimed.prefix(4)) == [true, false, true, false])
      #expect(claimed[4..<604].allSatisfy { $0 })
      #expect(Array(claimed[604..<606]) == [false, false])
      #expect(Array(claimed.suffix(12)) == Array(repeating: true, count: 6) + Array(repeating: false, count: 6))
      let (count, other, stored) = try await database.read { db in
        (
          try Inbox.count(in: db), try Inbox.contains(group: "sagad-dlt", eventId: "e-1", in: db),
          try odd.allSatisfy { try Inbox.contains(group: "points-service", eventId: $0, in: db) }
        )
      }
      #expect(count == 609 && !other && stored)
    }
  }

  @Test("a claim in a transaction that rolls back is forgotten, so the retry can claim", arguments: SQLEngine.allCases)
  func claimRollsBack(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      await #expect(throws: InjectedFailure()) {
        try await database.write { db in
          _ = try Inbox.claim(
            group: "points-service", eventId: "e-1", topic: "reservation-completed", partition: 0, offset: 0, in: db)
          throw InjectedFailure()
        }
      }
      let retried = try await Self.claim(database, eventId: "e-1")
      #expect(retried)
    }
  }

  @Test("purge forgets only entries processed before the cut-off", arguments: SQLEngine.allCases)
  func purge(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      _ = try await Self.claim(database, eventId: "old", at: referenceDate)
      _ = try await Self.claim(database, eventId: "new", at: referenceDate.addingTimeInterval(7_200))
      let purged = try await database.write { db in
        try Inbox.purge(olderThan: referenceDate.addingTimeInterval(3_600), in: db)
      }
      #expect(purged == 1)
      let (new, old) = (try await Self.claim(database, eventId: "new"), try await Self.claim(database, eventId: "old"))
      #expect(!new && old)
    }
  }
}
