import Foundation
import SagaCore
import SagaStorage

/// The SQL of Points' saga timeline (`point_saga_steps`, and the outbox rows it names).
extension PointsSagaStep {
  /// Records the decision on `message` for `paymentId`, with the outbox rows it wrote.
  static func record(
    _ step: Kind, paymentId: Int64, message: InboundMessage, outcome: String, outboxIds: [Int64], at now: Date,
    in db: some SQLConnection
  ) throws {
    // Deferred: on PostgreSQL it rides with the next statement (the record's end flushes it).
    try db.executeDeferred(
      """
      INSERT INTO point_saga_steps
        (payment_id, at, step, topic, "partition", "offset", event_id, outcome, outbox_ids)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [
        paymentId, RFC3339Timestamp.milliseconds(of: now), step.rawValue, message.topic, message.partition,
        message.offset, message.envelope.eventId.map(\.lowercasedText), outcome,
        outboxIds.jsonArrayLiteral,
      ])
  }

  /// The Points timeline of `paymentId` in time order: each decision, then the outbox rows
  /// it wrote. A row is stamped with the time it was written, not sent: the relay records
  /// Kafka's confirmation after the fact, often after Payments has already read the event,
  /// which would put the answer after its effect. Rows purged by retention are not listed.
  static func fetchAll(paymentId: Int64, in db: some SQLConnection) throws -> [PointsSagaStep] {
    var steps: [PointsSagaStep] = []
    let rows = try db.query(
      """
      SELECT at, step, topic, "partition", "offset", event_id, outcome, outbox_ids
      FROM point_saga_steps WHERE payment_id = ? ORDER BY id
      """, [paymentId])
    for row in rows {
      guard let kind = Kind(rawValue: row["step"]) else {
        throw SagaError(.internalError, "a Points saga step of payment \(paymentId) has an unknown kind")
      }
      steps.append(
        PointsSagaStep(
          at: RFC3339Timestamp.date(milliseconds: row["at"]), step: kind, topic: row["topic"],
          partition: row["partition"], offset: row["offset"], eventId: row["event_id"], outcome: row["outcome"]))
      steps += try published(outboxIds: row["outbox_ids"], in: db)
    }
    return steps.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
  }

  private static func published(outboxIds: String, in db: some SQLConnection) throws -> [PointsSagaStep] {
    guard outboxIds != "[]" else { return [] }
    // The column is a JSON array; PostgreSQL takes the same numbers as an array literal.
    let (ids, list) =
      db.engine == .sqlite
      ? ("SELECT value FROM json_each(?)", outboxIds)
      : ("SELECT unnest(CAST(? AS BIGINT[]))", "{" + outboxIds.dropFirst().dropLast() + "}")
    return try db.query(
      """
      SELECT o.topic, o.created_at, o.sent_at, o.attempts, o.event_id
      FROM outbox o WHERE o.id IN (\(ids)) ORDER BY o.id
      """, [list]
    ).map { row in
      let topic: String = row["topic"]
      let event = EventType.allCases.first { $0.topic.rawValue == topic }.map(\.rawValue) ?? "event"
      let sentAt: Int64? = row["sent_at"]
      let attempts: Int = row["attempts"]
      let outcome =
        sentAt.map { "\(event) sent (Kafka confirmed it at \(RFC3339Timestamp.format(milliseconds: $0)))" }
        ?? "\(event) waiting in the outbox" + (attempts > 0 ? " (\(attempts) failed attempts)" : "")
      return PointsSagaStep(
        at: RFC3339Timestamp.date(milliseconds: row["created_at"]), step: .published, topic: topic,
        partition: nil, offset: nil, eventId: row["event_id"], outcome: outcome)
    }
  }
}
