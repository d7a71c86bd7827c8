import Foundation
import GRDB
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

@Suite("Dead letters through the outbox", .postgresServer, .timeLimit(.minutes(2)))
struct DeadLettersTests {
  private static func letter(
    offset: Int64, error: SagaError = SagaError(.invalidJSON, "body is not JSON"), headers: [RecordHeader] = []
  ) -> DeadLetter {
    DeadLetter(
      message: InboundMessage(
        topic: "reservation-completed", partition: 2, offset: offset, key: Array("42".utf8),
        value: Array("not json".utf8),
        headers: [RecordHeader(name: "eventId", value: "0f6a4a0e-8f0e-4d5a-9a57-6c1f2b7a1c11")] + headers,
        timestampMilliseconds: 1_700_000_000_123),
      consumerGroup: "points-service", timestampType: "CreateTime", error: error, failureClass: .permanent,
      attempts: 1)
  }

  @Test("the dead letter is the original key, value and headers, then Spring's kafka_dlt-* headers and sagad's")
  func headers() throws {
    let message = Self.letter(offset: 5).outboxMessage
    #expect(message.topic == "reservation-completed.DLT")
    #expect(message.keyContent == .text("42"))
    #expect(message.payload == Array("not json".utf8))
    #expect(
      message.headers.map(\.name) == [
        "eventId", "kafka_dlt-original-topic", "kafka_dlt-original-partition", "kafka_dlt-original-offset",
        "kafka_dlt-original-timestamp", "kafka_dlt-original-timestamp-type", "kafka_dlt-original-consumer-group",
        "kafka_dlt-exception-fqcn", "kafka_dlt-exception-message", "kafka_dlt-exception-stacktrace",
        "sagad-attempts", "sagad-failure-class",
      ])
    let values = Dictionary(message.headers.map { ($0.name, $0.bytes) }, uniquingKeysWith: { first, _ in first })
    // As Spring's DeadLetterPublishingRecoverer writes them: ByteBuffer.putInt(partition),
    // putLong(offset), putLong(timestamp), big-endian; the rest UTF-8 text.
    #expect(values["kafka_dlt-original-partition"] == [0x00, 0x00, 0x00, 0x02])
    #expect(values["kafka_dlt-original-offset"] == [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05])
    #expect(values["kafka_dlt-original-timestamp"] == [0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x7B])
    let texts = Dictionary(message.headers.map { ($0.name, $0.text) }, uniquingKeysWith: { first, _ in first })
    #expect(texts["eventId"] == "0f6a4a0e-8f0e-4d5a-9a57-6c1f2b7a1c11")
    #expect(texts["kafka_dlt-original-topic"] == "reservation-completed")
    #expect(texts["kafka_dlt-original-timestamp-type"] == "CreateTime")
    #expect(texts["kafka_dlt-original-consumer-group"] == "points-service")
    #expect(texts["kafka_dlt-exception-fqcn"] == "SagaCore.SagaError")
    #expect(texts["kafka_dlt-exception-message"] == "invalid-json: body is not JSON")
    #expect(texts["kafka_dlt-exception-stacktrace"] == "SagaCore.SagaError: invalid-json: body is not JSON")
    #expect(texts["sagad-attempts"] == "1")
    #expect(texts["sagad-failure-class"] == "permanent")
    // Spring writes the cause's class only for an exception with a cause; a SagaError has none.
    #expect(!message.headers.contains { $0.name == HeaderName.DeadLetter.exceptionCauseFqcn })
    #expect(Set(HeaderName.DeadLetter.required).isSubset(of: Set(message.headers.map(\.name))))
  }

  /// Hand-written from Java's `ByteBuffer.allocate(4).putInt(p)` / `allocate(8).putLong(o)`:
  /// big-endian two's complement, so a byte-order mistake cannot pass.
  static let springFixtures: [(partition: Int32, offset: Int64, timestamp: Int64, bytes: [[UInt8]])] = [
    (
      3, 42, 1_767_225_600_000,
      [
        [0x00, 0x00, 0x00, 0x03], [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2A],
        [0x00, 0x00, 0x01, 0x9B, 0x76, 0xDA, 0xA8, 0x00],
      ]
    ),
    (
      0x0102_0304, 0x0123_4567_89AB_CDEF, 0,
      [
        [0x01, 0x02, 0x03, 0x04], [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF],
        [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
      ]
    ),
    (
      0, 0, -1,
      [
        [0x00, 0x00, 0x00, 0x00], [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
      ]
    ),
  ]

  @Test("partition, offset and timestamp bytes match Spring's encoding, and read back as the same numbers")
  func springEncodingFixtures() throws {
    typealias DLT = HeaderName.DeadLetter
    for fixture in Self.springFixtures {
      let letter = DeadLetter(
        message: InboundMessage(
          topic: "compensate-payment", partition: fixture.partition, offset: fixture.offset, key: nil, value: nil,
          headers: [], timestampMilliseconds: fixture.timestamp),
        consumerGroup: "payment-compensation-service", timestampType: "LogAppendTime",
        error: SagaError(.unknownPayment, "no such payment"), failureClass: .permanent, attempts: 1)
      let headers = letter.outboxMessage.headers
      func value(_ name: String) -> [UInt8]? { headers.last { $0.name == name }?.bytes }
      #expect(value(DLT.originalPartition) == fixture.bytes[0], "partition \(fixture.partition)")
      #expect(value(DLT.originalOffset) == fixture.bytes[1], "offset \(fixture.offset)")
      #expect(value(DLT.originalTimestamp) == fixture.bytes[2], "timestamp \(fixture.timestamp)")
      // What the DLT worker stores reads them back.
      let read = headers.map { RecordHeader(name: $0.name, bytes: $0.bytes) }
      #expect(read.last(named: DLT.originalPartition)?.integer == Int64(fixture.partition))
      #expect(read.last(named: DLT.originalOffset)?.integer == fixture.offset)
      #expect(read.last(named: DLT.originalTimestamp)?.integer == fixture.timestamp)
    }
  }

  @Test("DLT readers take Spring's binary integers and sagad's earlier decimal text alike")
  func readersAcceptBothEncodings() {
    typealias DLT = HeaderName.DeadLetter
    let cases: [([UInt8], Int64?)] = [
      ([0x00, 0x00, 0x00, 0x03], 3),
      ([0xFF, 0xFF, 0xFF, 0xFF], -1),
      ([0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x92], 4242),
      ([0x00, 0x00, 0x01, 0x9B, 0x76, 0xDA, 0xA8, 0x00], 1_767_225_600_000),
      // sagad's decimal text, including lengths a binary integer also has.
      (Array("3".utf8), 3),
      (Array("4242".utf8), 4242),
      (Array("12345678".utf8), 12_345_678),
      (Array("1767225600000".utf8), 1_767_225_600_000),
      // Neither: a 3-byte value, words.
      ([0x00, 0x00, 0x03], nil),
      (Array("three".utf8), nil),
    ]
    for (bytes, expected) in cases {
      #expect(RecordHeader(name: DLT.originalOffset, bytes: bytes).integer == expected, "\(bytes)")
    }
    #expect(RecordHeader(name: DLT.originalOffset, bytes: nil).integer == nil)
    // Shown to people as numbers, not as control characters.
    #expect(
      RecordHeader(name: DLT.originalPartition, bytes: [0x00, 0x00, 0x00, 0x03]).displayValue
        == "3 (4-byte big-endian)")
    #expect(
      RecordHeader(name: DLT.originalTimestamp, bytes: [0x00, 0x00, 0x01, 0x9B, 0x76, 0xDA, 0xA8, 0x00])
        .displayValue == "1767225600000 (8-byte big-endian)")
    #expect(RecordHeader(name: DLT.originalOffset, value: "4242").displayValue == "4242")
    #expect(RecordHeader(name: "x-bin", bytes: [0x00, 0x01]).displayValue == "<2 bytes: 0001>")
    #expect(RecordHeader(name: "trace", value: "a\n\tb").displayValue == "a\n\tb")
  }

  @Test("a peer's binary and null header values and a key that is not UTF-8 are copied byte for byte")
  func binaryOriginalsKept() throws {
    let original = DeadLetter(
      message: InboundMessage(
        topic: "reservation-completed", partition: 0, offset: 1, key: [0xFF, 0x00, 0xFE], value: [0xC3, 0x28],
        headers: [
          RecordHeader(name: "x-bin", bytes: [0x00, 0xFF, 0x80]),
          RecordHeader(name: "x-null", bytes: nil),
          RecordHeader(name: "x-empty", bytes: []),
          RecordHeader(name: "x-text", bytes: Array("포인트".utf8)),
        ]),
      consumerGroup: "points-service", timestampType: nil, error: SagaError(.invalidJSON, "not UTF-8"),
      failureClass: .permanent, attempts: 1)
    let message = original.outboxMessage
    #expect(message.keyContent == .binary([0xFF, 0x00, 0xFE]))
    #expect(message.keyContent.bytes == [0xFF, 0x00, 0xFE])
    #expect(message.payload == [0xC3, 0x28])
    #expect(message.headers[0] == RecordHeader(name: "x-bin", bytes: [0x00, 0xFF, 0x80]))
    #expect(message.headers[0].bytes == [0x00, 0xFF, 0x80])
    #expect(message.headers[1].name == "x-null" && message.headers[1].bytes == nil)
    #expect(message.headers[2].name == "x-empty" && message.headers[2].bytes == [])
    #expect(message.headers[3].text == "포인트")
    // No timestamp on the record: no timestamp headers, as there is nothing true to say.
    #expect(!message.headers.contains { $0.name.hasPrefix("kafka_dlt-original-timestamp") })
  }

  @Test("a dead letter failing again replaces the earlier dead-letter headers, and a long reason is cut")
  func replacedHeadersAndLongReason() {
    let earlier = [
      RecordHeader(name: "kafka_dlt-original-offset", value: "1"),
      RecordHeader(name: "kafka_dlt-exception-stacktrace", value: "java…"),
      RecordHeader(name: "kafka_dlt-exception-cause-fqcn", value: "java.lang.IllegalStateException"),
      RecordHeader(name: "sagad-attempts", value: "3"),
      RecordHeader(name: "sagad-replay-of", value: "0f6a4a0e-8f0e-4d5a-9a57-6c1f2b7a1c11"),
    ]
    let long = SagaError(.invalidValue, String(repeating: "x", count: 10_000))
    let message = Self.letter(offset: 9, error: long, headers: earlier).outboxMessage
    #expect(
      message.headers.filter { $0.name == "kafka_dlt-original-offset" }.map(\.bytes)
        == [[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09]])
    #expect(message.headers.filter { $0.name == "sagad-attempts" }.map(\.text) == ["1"])
    let traces = message.headers.filter { $0.name == "kafka_dlt-exception-stacktrace" }.compactMap(\.text)
    #expect(traces.count == 1 && traces.first?.hasPrefix("SagaCore.SagaError: invalid-value: xxx") == true)
    #expect(!message.headers.contains { $0.name == "kafka_dlt-exception-cause-fqcn" })
    #expect(message.headers.contains { $0.name == "sagad-replay-of" }, "other headers are kept")
    let reason = try? #require(message.headers.first { $0.name == "kafka_dlt-exception-message" }?.text)
    #expect((reason?.count ?? 0) < 4_200 && reason?.hasSuffix("(truncated)") == true)
  }

  @Test(
    "a redelivered record is marked once: the second mark answers false (the crash window)",
    arguments: SQLEngine.allCases)
  func markOnce(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
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
    try await TemporaryDirectory.with { directory in
      let path = directory.appending("old.sqlite").path
      // The schema as the saga issue left it: the v1 storage migrations, one recorded failure.
      let old = try DatabaseQueue(path: path)
      _ = try await old.write { db in
        try db.execute(
          """
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
          try db.query("SELECT name FROM sqlite_master WHERE type = 'table'").map { try $0.decode(0, as: String.self) },
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
      let headers = Dictionary(letter.message.headers.map { ($0.name, $0.text) }, uniquingKeysWith: { a, _ in a })
      #expect(headers["eventType"] == "ReservationCompleted")
      #expect(
        letter.message.headers.last { $0.name == "kafka_dlt-original-offset" }?.bytes
          == [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11])
      #expect(headers["kafka_dlt-exception-message"] == "invalid-json: body is not JSON")
      #expect(headers["sagad-failure-class"] == "permanent")
    }
  }
}
