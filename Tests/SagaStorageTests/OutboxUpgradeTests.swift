import Foundation
import GRDB
import SagaCore
import SagaStorage
import Testing

/// The outbox's envelope columns (storage-v3): rows a previous version wrote, with every
/// header in one JSON column, publish the same headers byte for byte after the upgrade.
@Suite("Outbox envelope columns and their migration", .timeLimit(.minutes(2)))
struct OutboxUpgradeTests {
  /// An envelope as the previous version wrote it, plus a re-announcement's extra header.
  static let envelope = EventEnvelope(
    eventType: .reservationCompleted,
    trace: TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")!,
    eventId: UUID(uuidString: "5B1C0A2E-0C4D-4F1E-9A3B-7D2E8F6A1C00")!, occurredAt: referenceDate,
    extraHeaders: [RecordHeader(name: HeaderName.republished, value: "2")])

  /// The header lists the previous version stored: a saga event, a dead letter whose
  /// original headers hold binary and null values, one with the envelope names out of
  /// order, one with a binary value in an envelope slot, and none.
  static let stored: [[RecordHeader]] = [
    envelope.headers,
    [
      RecordHeader(name: "x-bin", bytes: [0x00, 0xFF]), RecordHeader(name: "x-null", bytes: nil),
      RecordHeader(name: HeaderName.DeadLetter.originalPartition, bytes: [0, 0, 0, 3]),
    ],
    Array(envelope.headers.reversed()),
    [RecordHeader(name: HeaderName.eventId, bytes: [0xFF])] + envelope.headers.dropFirst(),
    [],
  ]

  @Test("rows with all headers in the old JSON column publish byte-identical headers after the upgrade")
  func upgradeKeepsHeadersByteForByte() async throws {
    let queue = try DatabaseQueue()
    let migrator = SagaDatabase.migrator()
    try migrator.migrate(queue, upTo: "storage-v2-dead-lettered")
    // The old column, written as the previous version's HeaderJSON did (pairs for text,
    // objects for binary and null).
    let columns = [
      #"[["eventId","5b1c0a2e-0c4d-4f1e-9a3b-7d2e8f6a1c00"],["eventType","ReservationCompleted"],"#
        + #"["eventVersion","1.0"],["traceparent",""# + Self.envelope.trace.traceparent + #""],"#
        + #"["correlationId","4bf92f3577b34da6a3ce929d0e0e4736"],["producer","sagad/payments"],"#
        + #"["occurredAt","2026-01-01T00:00:00.000Z"],["sagad-republished","2"]]"#,
      #"[{"name":"x-bin","base64":"AP8="},{"name":"x-null"},"#
        + #"{"name":"kafka_dlt-original-partition","base64":"AAAAAw=="}]"#,
      nil, nil, "[]",
    ]
    try await queue.write { db in
      for (headers, column) in zip(Self.stored, columns) {
        try db.execute(
          "INSERT INTO outbox (topic, message_key, payload, headers, created_at) VALUES ('t', 'k', x'7b7d', ?, 0)",
          [column ?? Self.oldColumn(headers)])
      }
    }
    let upgraded = try SagaDatabase(queue, migrator: migrator)
    let (read, eventIds, hasOldColumn) = try await upgraded.sqlite!.read { db in
      (
        try Outbox.pending(limit: 10, in: db),
        try String?.fetchAll(db, sql: "SELECT event_id FROM outbox ORDER BY id"),
        try db.columns(in: "outbox").contains { $0.name == "headers" }
      )
    }
    #expect(read.map(\.headers) == Self.stored)
    #expect(read.map { $0.headers.map(\.bytes) } == Self.stored.map { $0.map(\.bytes) })
    #expect(eventIds == ["5b1c0a2e-0c4d-4f1e-9a3b-7d2e8f6a1c00", nil, nil, nil, nil])
    #expect(!hasOldColumn)
  }

  @Test("an event's envelope is stored in columns, extras after it, and read back in publishing order")
  func envelopeInColumns() async throws {
    try await withDatabase { database in
      let id = try await database.write { db in
        try Outbox.append(OutboxMessage(topic: "t", key: "k", payload: [], headers: Self.envelope.headers), in: db)
      }
      let (values, read) = try await database.read { db in
        (
          try db.query(
            """
            SELECT event_id, event_type, event_version, traceparent, correlation_id, producer, occurred_at,
                   extra_headers
            FROM outbox WHERE id = ?
            """, [id]
          ).first.map { row in row.values.map { $0.text ?? "<null>" } },
          try Outbox.pending(limit: 1, in: db)
        )
      }
      #expect(values == Self.envelope.headers.prefix(7).map(\.value) + [#"[["sagad-republished","2"]]"#])
      #expect(read.first?.headers == Self.envelope.headers)
    }
  }

  /// A header list in the old column's format, for the rows the literals above do not spell out.
  private static func oldColumn(_ headers: [RecordHeader]) -> String {
    "["
      + headers.map { header in
        switch header.content {
        case .text(let text): #"[\#(quoted(header.name)),\#(quoted(text))]"#
        case .binary(let bytes): #"{"name":\#(quoted(header.name)),"base64":"\#(Data(bytes).base64EncodedString())"}"#
        case .null: #"{"name":\#(quoted(header.name))}"#
        }
      }.joined(separator: ",") + "]"
  }

  /// Every name and value quoted here is plain ASCII, with nothing to escape.
  private static func quoted(_ text: String) -> String { "\"\(text)\"" }
}
