import Foundation
import GRDB
import SagaStorage
import Testing

@Suite("FailedMessages", .timeLimit(.minutes(2)))
struct FailedMessagesTests {
  private static func failure(offset: Int64, reason: String = "not JSON") -> FailedMessage {
    FailedMessage(
      consumerGroup: "points-service", topic: "reservation-completed", partition: 2, offset: offset, key: "42",
      payload: Array("not json".utf8), headers: [OutboxHeader(name: "eventType", value: "ReservationCompleted")],
      reasonCode: "invalid-json", reason: reason, failedAt: referenceDate)
  }

  @Test("recording the same (group, topic, partition, offset) twice keeps the first record")
  func idempotent() async throws {
    try await withDatabase { database in
      let first = try await database.write { db in try FailedMessages.record(Self.failure(offset: 5), in: db) }
      let replay = try await database.write { db in
        try FailedMessages.record(Self.failure(offset: 5, reason: "second try"), in: db)
      }
      let other = try await database.write { db in try FailedMessages.record(Self.failure(offset: 6), in: db) }
      #expect(first && !replay && other)

      let (records, count) = try await database.read { db in
        (try FailedMessages.list(limit: 10, in: db), try FailedMessages.count(in: db))
      }
      #expect(count == 2)
      #expect(records.map(\.message) == [Self.failure(offset: 5), Self.failure(offset: 6)])
    }
  }

  @Test("list pages by id")
  func paging() async throws {
    try await withDatabase { database in
      try await database.write { db in
        for offset in 0..<5 { _ = try FailedMessages.record(Self.failure(offset: Int64(offset)), in: db) }
      }
      let (firstPage, secondPage) = try await database.read { db in
        let first = try FailedMessages.list(limit: 3, in: db)
        return (first, try FailedMessages.list(limit: 3, afterId: first.last?.id, in: db))
      }
      #expect(firstPage.map(\.message.offset) == [0, 1, 2])
      #expect(secondPage.map(\.message.offset) == [3, 4])
    }
  }
}
