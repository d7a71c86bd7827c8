import Foundation
import GRDB
import SagaCore
import SagaStorage
import Testing

@Suite("Retention", .timeLimit(.minutes(2)))
struct RetentionTests {
  @Test("one purge removes old sent outbox rows, inbox entries, dead-letter marks and timeline steps; keeps the rest")
  func purge() async throws {
    try await withDatabase { database in
      let now = referenceDate.addingTimeInterval(10 * 86_400)
      try await database.write { db in
        let sentLongAgo = try Outbox.append(message(), at: referenceDate, in: db)
        let sentRecently = try Outbox.append(message(), at: referenceDate, in: db)
        _ = try Outbox.append(message(), at: referenceDate, in: db)  // unsent: owed to Kafka, kept
        try Outbox.markSent(ids: [sentLongAgo], at: referenceDate, in: db)
        try Outbox.markSent(ids: [sentRecently], at: now.addingTimeInterval(-60), in: db)
        for (eventId, age) in [("old", 8.0 * 86_400), ("new", 86_400.0)] {
          _ = try Inbox.claim(
            group: "points-service", eventId: eventId, topic: "reservation-completed", partition: 0, offset: 0,
            at: now.addingTimeInterval(-age), in: db)
        }
        for (offset, age) in [(1, 10.0 * 86_400), (2, 86_400.0)] {
          let letter = DeadLetter(
            message: InboundMessage(
              topic: "reservation-completed", partition: 0, offset: Int64(offset), key: nil, value: [], headers: []),
            consumerGroup: "points-service", timestampType: nil, error: SagaError(.invalidJSON, "empty"),
            failureClass: .permanent, attempts: 1)
          _ = try DeadLetters.mark(letter, at: now.addingTimeInterval(-age), in: db)
        }
        // A service's timeline table: steps of 40, 31, 29 and 1 days ago, in insertion order.
        try db.execute("CREATE TABLE steps (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL)")
        for days in [40.0, 31, 29, 1] {
          try db.execute(
            "INSERT INTO steps (at) VALUES (?)",
            [Int64(now.addingTimeInterval(-days * 86_400).timeIntervalSince1970 * 1000)])
        }
      }

      let policy = RetentionPolicy(
        outbox: .seconds(3_600), inbox: .seconds(7 * 86_400), timeline: .seconds(30 * 86_400),
        timelineTables: ["steps"])
      let result = try await database.purge(policy, now: now)
      #expect(result == PurgeResult(outboxRows: 1, inboxRows: 1, deadLetterMarks: 1, timelineRows: 2))

      let (outboxRows, inboxIds, marks, steps) = try await database.read { db in
        (
          try db.value(Int.self, "SELECT COUNT(*) FROM outbox"),
          try db.query("SELECT event_id FROM inbox").map { try $0.decode(0, as: String.self) },
          try DeadLetters.count(in: db),
          try db.query("SELECT id FROM steps ORDER BY id").map { try $0.decode(0, as: Int64.self) }
        )
      }
      #expect(outboxRows == 2)
      #expect(inboxIds == ["new"])
      #expect(marks == 1)
      #expect(steps == [3, 4])

      // Nothing young enough left: the old rest goes too.
      let later = try await database.purge(policy, now: now.addingTimeInterval(40 * 86_400))
      #expect(later.timelineRows == 2)
    }
  }
}
