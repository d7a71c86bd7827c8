import Foundation
import GRDB
import SagaCore
import SagaStorage
import Testing

@Suite("Dead letters through the outbox", .timeLimit(.minutes(2)))
struct DeadLettersTests {
  private static func letter(
    offset: Int64, error: SagaError = SagaError(.invalidJSON, "body is not JSON"), headers: [EnvelopeHeader] = []
  ) -> DeadLetter {
    DeadLetter(
      message: InboundMessage(
        topic: "reservation-completed", partition: 2, offset: offset, key: Array("42".utf8),
        value: Array("not json".utf8),
        headers: [EnvelopeHeader(name: "eventId", value: "0f6a4a0e-8f0e-4d5a-9a57-6c1f2b7a1c11")] + headers,
        timestampMilliseconds: 1_700_000_000_123),
      consumerGroup: "points-service", timestampType: "CreateTime", error: error, failureClass: .permanent,
      attempts: 1)
  }

  @Test("the dead letter is the original key, value and headers plus the kafka_dlt-* and sagad-* headers")
  func headers() {
    let message = Self.letter(offset: 5).outboxMessage
    #expect(message.topic == "reservation-completed.DLT")
    #expect(message.key == "42")
    #expect(message.payload == Array("not json".utf8))
    #expect(
      message.headers.map { "\($0.name)=\($0.value)" } == [
        "eventId=0f6a4a0e-8f0e-4d5a-9a57-6c1f2b7a1c11",
        "kafka_dlt-original-topic=reservation-completed",
        "kafka_dlt-original-partition=2",
        "kafka_dlt-original-offset=5",
        "kafka_dlt-original-timestamp=1700000000123",
        "kafka_dlt-original-timestamp-type=CreateTime",
        "kafka_dlt-original-consumer-group=points-service",
        "kafka_dlt-exception-fqcn=SagaCore.SagaError",
        "kafka_dlt-exception-message=invalid-json: body is not JSON",
        "sagad-attempts=1",
        "sagad-failure-class=permanent",
      ])
    #expect(Set(HeaderName.DeadLetter.required).isSubset(of: Set(message.headers.map(\.name))))
  }

  @Test("a dead letter failing again replaces the earlier dead-letter headers, and a long reason is cut")
  func replacedHeadersAndLongReason() {
    let earlier = [
      EnvelopeHeader(name: "kafka_dlt-original-offset", value: "1"),
      EnvelopeHeader(name: "kafka_dlt-exception-stacktrace", value: "java…"),
      EnvelopeHeader(name: "sagad-attempts", value: "3"),
      EnvelopeHeader(name: "sagad-replay-of", value: "0f6a4a0e-8f0e-4d5a-9a57-6c1f2b7a1c11"),
    ]
    let long = SagaError(.invalidValue, String(repeating: "x", count: 10_000))
    let message = Self.letter(offset: 9, error: long, headers: earlier).outboxMessage
    #expect(message.headers.filter { $0.name == "kafka_dlt-original-offset" }.map(\.value) == ["9"])
    #expect(message.headers.filter { $0.name == "sagad-attempts" }.map(\.value) == ["1"])
    #expect(!message.headers.contains { $0.name == "kafka_dlt-exception-stacktrace" })
    #expect(message.headers.contains { $0.name == "sagad-replay-of" }, "other headers are kept")
    let reason = try? #require(message.headers.first { $0.name == "kafka_dlt-exception-message" }?.value)
    #expect((reason?.count ?? 0) < 4_200 && reason?.hasSuffix("(truncated)") == true)
  }

  @Test("a redelivered record is marked once: the second mark answers false (the crash window)")
  func markOnce() async throws {
    try await withDatabase { database in
      let (first, replay, other) = try await database.write { db in
        let first = try DeadLetters.mark(Self.letter(offset: 5), at: referenceDate, in: db)
        if first { try DeadLetters.publish(Self.letter(offset: 5), at: referenceDate, in: db) }
        let replay = try DeadLetters.mark(Self.letter(offset: 5), at: referenceDate, in: db)
        let other = try DeadLetters.mark(Self.letter(offset: 6), at: referenceDate, in: db)
        return (first, replay, other)
      }
      #expect(first && !replay && other)
      let (count, marked, outbox) = try await database.read { db in
        (
          try DeadLetters.count(group: "points-service", in: db),
          try DeadLetters.contains(
            group: "points-service", topic: "reservation-completed", partition: 2, offset: 5, in: db),
          try Outbox.pending(limit: 10, in: db)
        )
      }
      #expect(count == 2 && marked)
      #expect(outbox.map(\.message.topic) == ["reservation-completed.DLT"])
    }
  }

  @Test("upgrading a database turns the interim failed_messages records into dead letters in the outbox")
  func upgradeFromFailedMessages() async throws {
    try await withTemporaryDirectory { directory in
      let path = directory.appendingPathComponent("old.sqlite").path
      // The schema as the saga issue left it: the v1 storage migrations, one recorded failure.
      let old = try DatabaseQueue(path: path)
      try await old.write { db in
        try db.execute(
          sql: """
            CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
            INSERT INTO grdb_migrations VALUES ('storage-v1-outbox'), ('storage-v1-inbox'),
              ('storage-v1-failed-messages');
            CREATE TABLE outbox (
              id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, message_key TEXT, payload BLOB NOT NULL,
              headers TEXT NOT NULL DEFAULT '[]', created_at INTEGER NOT NULL, sent_at INTEGER,
              attempts INTEGER NOT NULL DEFAULT 0);
            CREATE INDEX outbox_unsent ON outbox(id) WHERE sent_at IS NULL;
            CREATE INDEX outbox_sent_at ON outbox(sent_at) WHERE sent_at IS NOT NULL;
            CREATE TABLE inbox (
              consumer_group TEXT NOT NULL, event_id TEXT NOT NULL, topic TEXT NOT NULL,
              "partition" INTEGER NOT NULL, "offset" INTEGER NOT NULL, processed_at INTEGER NOT NULL,
              PRIMARY KEY (consumer_group, event_id)) WITHOUT ROWID;
            CREATE INDEX inbox_processed_at ON inbox(processed_at);
            CREATE TABLE failed_messages (
              id INTEGER PRIMARY KEY, consumer_group TEXT NOT NULL, topic TEXT NOT NULL,
              "partition" INTEGER NOT NULL, "offset" INTEGER NOT NULL, message_key TEXT, payload BLOB NOT NULL,
              headers TEXT NOT NULL DEFAULT '[]', reason_code TEXT NOT NULL, reason TEXT NOT NULL,
              failed_at INTEGER NOT NULL, UNIQUE (consumer_group, topic, "partition", "offset"));
            INSERT INTO failed_messages
              (consumer_group, topic, "partition", "offset", message_key, payload, headers, reason_code, reason,
               failed_at)
            VALUES ('points-service', 'reservation-completed', 1, 17, '42', CAST('oops' AS BLOB),
                    '[["eventType","ReservationCompleted"]]', 'invalid-json', 'body is not JSON', 1767225600000);
            """)
      }
      try old.close()

      let upgraded = try SagaDatabase(StorageConfiguration(path: path))
      let (tables, outbox, marked) = try await upgraded.read { db in
        (
          try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"),
          try Outbox.pending(limit: 10, in: db),
          try DeadLetters.contains(
            group: "points-service", topic: "reservation-completed", partition: 1, offset: 17, in: db)
        )
      }
      #expect(!tables.contains("failed_messages"))
      #expect(marked)
      let letter = try #require(outbox.first)
      #expect(outbox.count == 1)
      #expect(letter.message.topic == "reservation-completed.DLT")
      #expect(letter.message.key == "42" && letter.message.payload == Array("oops".utf8))
      let headers = Dictionary(letter.message.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
      #expect(headers["eventType"] == "ReservationCompleted")
      #expect(headers["kafka_dlt-original-offset"] == "17")
      #expect(headers["kafka_dlt-exception-message"] == "invalid-json: body is not JSON")
      #expect(headers["sagad-failure-class"] == "permanent")
    }
  }
}
