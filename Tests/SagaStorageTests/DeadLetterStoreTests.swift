import Foundation
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

@Suite("Dead-letter store", .postgresServer, .timeLimit(.minutes(1)))
struct DeadLetterStoreTests {
  /// A fresh store on `engine` (a file, or a database on the suite's server), closed afterwards.
  private func withStore<T>(on engine: SQLEngine, _ body: (DeadLetterStore) async throws -> T) async throws -> T {
    try await TemporaryDirectory.with { directory in
      let store =
        switch engine {
        case .sqlite: try DeadLetterStore(StorageConfiguration(path: directory.appending("dlt.sqlite").path))
        case .postgres:
          try await DeadLetterStore.open(
            postgres: try await PostgresServer.suiteServer().freshDatabase(), logger: quietLogger)
        }
      return try await store.database.closing { try await body(store) }
    }
  }

  private static func header(_ name: String, _ text: String) -> RecordHeader {
    RecordHeader(name: name, value: text)
  }

  /// A dead letter as sagad writes it: text headers, the reason led by the error code.
  private static func sagadLetter(offset: Int64, eventId: String? = UUID().uuidString.lowercased())
    -> ReceivedDeadLetter
  {
    var headers = [
      header("eventType", "ReservationCompleted"),
      header(HeaderName.DeadLetter.originalTopic, "reservation-completed"),
      header(HeaderName.DeadLetter.originalPartition, "2"),
      header(HeaderName.DeadLetter.originalOffset, "17"),
      header(HeaderName.DeadLetter.originalTimestamp, "1767225600000"),
      header(HeaderName.DeadLetter.originalConsumerGroup, "points-service"),
      header(HeaderName.DeadLetter.exceptionFqcn, "SagaCore.SagaError"),
      header(HeaderName.DeadLetter.exceptionMessage, "invalid-json: the body is not a JSON object"),
      header(HeaderName.attempts, "1"),
      header(HeaderName.failureClass, "permanent"),
    ]
    if let eventId { headers.insert(header(HeaderName.eventId, eventId), at: 0) }
    return ReceivedDeadLetter(
      topic: "reservation-completed.DLT", partition: 0, offset: offset, timestampMilliseconds: 1_767_225_601_000,
      key: Array("42".utf8), value: Array("not json".utf8), headers: headers)
  }

  @Test(
    "a sagad dead letter is stored once with its reason, code, class, attempts and original coordinates",
    arguments: SQLEngine.allCases)
  func storesOnce(engine: SQLEngine) async throws {
    try await withStore(on: engine) { store in
      let letter = Self.sagadLetter(offset: 5)
      #expect(try await store.record([letter], at: referenceDate) == 1)
      // The same DLT record again (a redelivery, a fresh group) and through the static API.
      #expect(try await store.record([letter, letter]) == 0)
      let again = try await store.database.write { db in try DeadLetterStore.record(letter, at: Date(), in: db) }
      #expect(again == false)
      #expect(try await store.count() == 1)

      let stored = try #require(try await store.list(limit: 10).first)
      #expect(stored.coordinates == "reservation-completed.DLT[0]@5")
      #expect(stored.originalCoordinates == "reservation-completed[2]@17")
      #expect(stored.originalTimestampMilliseconds == 1_767_225_600_000)
      #expect(stored.originalConsumerGroup == "points-service")
      #expect(stored.reason == "invalid-json: the body is not a JSON object")
      #expect(stored.reasonCode == "invalid-json")
      #expect(stored.failureClass == "permanent")
      #expect(stored.attempts == 1)
      #expect(stored.errorType == "SagaCore.SagaError")
      #expect(stored.firstSeenAt == referenceDate)
      #expect(stored.status == .pending)
      #expect(stored.key == Array("42".utf8))
      #expect(stored.value == Array("not json".utf8))
      #expect(stored.headers == letter.headers)
      #expect(try await store.deadLetter(id: stored.id) == stored)
    }
  }

  @Test(
    "Spring's binary kafka_dlt integers, a null value and a headerless record are all stored",
    arguments: SQLEngine.allCases)
  func foreignDeadLetters(engine: SQLEngine) async throws {
    try await withStore(on: engine) { store in
      let spring = ReceivedDeadLetter(
        topic: "compensate-payment.DLT", partition: 1, offset: 0, key: nil, value: nil,
        headers: [
          Self.header(HeaderName.DeadLetter.originalTopic, "compensate-payment"),
          RecordHeader(name: HeaderName.DeadLetter.originalPartition, bytes: [0, 0, 0, 3]),
          RecordHeader(name: HeaderName.DeadLetter.originalOffset, bytes: [0, 0, 0, 0, 0, 0, 1, 0]),
          Self.header(
            HeaderName.DeadLetter.exceptionFqcn,
            "org.springframework.kafka.listener.ListenerExecutionFailedException"),
          Self.header(HeaderName.DeadLetter.exceptionMessage, "Listener failed; nested exception is NotFound"),
          RecordHeader(name: "binary", bytes: [0xFF, 0x00]),
          RecordHeader(name: "null", bytes: nil),
        ])
      let bare = ReceivedDeadLetter(
        topic: "point-reward-failed.DLT", partition: 0, offset: 9, key: nil, value: Array("{}".utf8), headers: [])
      #expect(try await store.record([spring, bare]) == 2)
      let stored = try await store.list(limit: 10)
      #expect(stored.count == 2)
      #expect(stored[0].originalCoordinates == "compensate-payment[3]@256")
      #expect(stored[0].reasonCode == nil)
      #expect(stored[0].errorType == "org.springframework.kafka.listener.ListenerExecutionFailedException")
      #expect(stored[0].value == nil)
      #expect(stored[0].headers == spring.headers)
      #expect(stored[1].reason == "unknown")
      #expect(stored[1].originalTopic == nil)
      #expect(stored[1].replayTopic == "point-reward-failed")
      #expect(stored[1].replayOf == "offset:point-reward-failed.DLT[0]@9")
      #expect(try await store.pendingCounts() == ["compensate-payment": 1, "point-reward-failed": 1])
    }
  }

  @Test("filters by topic, reason code or text, since and status; pages by id", arguments: SQLEngine.allCases)
  func filtersAndPaging(engine: SQLEngine) async throws {
    try await withStore(on: engine) { store in
      let now = referenceDate
      try await store.record((0..<5).map { Self.sagadLetter(offset: $0) }, at: now.addingTimeInterval(-7200))
      let other = ReceivedDeadLetter(
        topic: "compensate-payment.DLT", partition: 0, offset: 0, key: nil, value: nil,
        headers: [Self.header(HeaderName.DeadLetter.exceptionMessage, "amount-mismatch: refund 10 of payment 3")])
      try await store.record([other], at: now)

      #expect(try await store.list(DeadLetterFilter(topic: "reservation-completed"), limit: 10).count == 5)
      #expect(try await store.list(DeadLetterFilter(topic: "compensate-payment.DLT"), limit: 10).count == 1)
      #expect(try await store.list(DeadLetterFilter(topic: "compensate-payment"), limit: 10).count == 1)
      #expect(try await store.list(DeadLetterFilter(reason: "invalid-json"), limit: 10).count == 5)
      #expect(try await store.list(DeadLetterFilter(reason: "REFUND 10"), limit: 10).count == 1)
      #expect(try await store.list(DeadLetterFilter(since: now.addingTimeInterval(-60)), limit: 10).count == 1)

      let first = try await store.list(limit: 2)
      let second = try await store.list(limit: 2, afterId: first.last?.id)
      let third = try await store.list(limit: 2, afterId: second.last?.id)
      #expect((first + second + third).map(\.id) == (try await store.list(limit: 10)).map(\.id))
      #expect(Set((first + second + third).map(\.id)).count == 6)

      try await store.markReplayed(ids: [first[0].id], at: now)
      try await store.markReplayed(ids: [first[0].id], at: now)
      let discarded = try #require(try await store.discard(id: first[1].id, note: "bad data, fixed upstream"))
      #expect(discarded.status == .discarded)
      #expect(discarded.discardNote == "bad data, fixed upstream")
      #expect(try await store.discard(id: 999, note: "x") == nil)
      let replayed = try #require(try await store.deadLetter(id: first[0].id))
      #expect(replayed.status == .replayed)
      #expect(replayed.replayCount == 2)
      #expect(replayed.lastReplayedAt == now)
      #expect(try await store.list(DeadLetterFilter(status: .pending), limit: 10).count == 4)
      #expect(try await store.list(DeadLetterFilter(status: .discarded), limit: 10).map(\.id) == [first[1].id])
      #expect(try await store.pendingCounts() == ["reservation-completed": 3, "compensate-payment": 1])
    }
  }

  @Test("a replay keeps the original headers, drops the dead-letter ones and names the original")
  func replayHeaders() throws {
    let eventId = UUID().uuidString
    let withId = StoredDeadLetter(
      id: 1, topic: "reservation-completed.DLT", partition: 0, offset: 3, timestampMilliseconds: nil,
      originalTopic: "reservation-completed", originalPartition: 1, originalOffset: 8,
      originalTimestampMilliseconds: nil, originalConsumerGroup: nil, key: nil, value: nil,
      headers: Self.sagadLetter(offset: 3, eventId: eventId).headers, reason: "x", reasonCode: nil,
      failureClass: nil, attempts: nil, errorType: nil, eventId: eventId, firstSeenAt: referenceDate,
      status: .pending, replayCount: 0, lastReplayedAt: nil, discardedAt: nil, discardNote: nil)
    #expect(withId.replayOf == eventId.lowercased())
    #expect(
      withId.replayHeaders.map(\.name) == [HeaderName.eventId, "eventType", HeaderName.replayOf])
    var headerless = withId
    headerless.eventId = nil
    headerless.headers = []
    #expect(headerless.replayOf == "offset:reservation-completed[1]@8")
    #expect(
      headerless.replayHeaders == [
        RecordHeader(name: HeaderName.replayOf, value: "offset:reservation-completed[1]@8")
      ])
    // A replay that failed again keeps naming the first original.
    headerless.headers = [RecordHeader(name: HeaderName.replayOf, value: "offset:reservation-completed[0]@1")]
    #expect(headerless.replayOf == "offset:reservation-completed[0]@1")
  }
}
