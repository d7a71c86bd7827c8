import Foundation
import GRDB
import SagaCore
import SagaStorage
import Testing

@Suite("Retention", .timeLimit(.minutes(2)))
struct RetentionTests {
  @Test("one purge removes old sent outbox rows and old inbox entries, and keeps the rest (dead-letter marks too)")
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
        let letter = DeadLetter(
          message: InboundMessage(
            topic: "reservation-completed", partition: 0, offset: 1, key: nil, value: [], headers: []),
          consumerGroup: "points-service", timestampType: nil, error: SagaError(.invalidJSON, "empty"),
          failureClass: .permanent, attempts: 1)
        _ = try DeadLetters.mark(letter, at: referenceDate, in: db)
      }

      let result = try await database.purge(
        RetentionPolicy(outbox: .seconds(3_600), inbox: .seconds(7 * 86_400)), now: now)
      #expect(result == PurgeResult(outboxRows: 1, inboxRows: 1))

      let (outboxRows, inboxIds, failed) = try await database.read { db in
        (
          try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox"),
          try String.fetchAll(db, sql: "SELECT event_id FROM inbox"),
          try DeadLetters.count(in: db)
        )
      }
      #expect(outboxRows == 2)
      #expect(inboxIds == ["new"])
      #expect(failed == 1)
    }
  }
}
