import Foundation
import SagaCore
import SagaStorage

/// The SQL of the saga timeline (`saga_steps`).
extension SagaStep {
  /// Appends a step for `paymentId`, caused by `message` when there is one.
  static func record(
    _ step: Kind, paymentId: Int64, outcome: String, message: InboundMessage? = nil, eventId: String? = nil,
    at now: Date, in db: some SQLConnection
  ) throws {
    // Deferred: on PostgreSQL it rides with the next statement.
    try db.executeDeferred(
      """
      INSERT INTO saga_steps (payment_id, at, step, topic, "partition", "offset", event_id, outcome)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [
        paymentId, now.paymentsMilliseconds, step.rawValue, message?.topic, message?.partition, message?.offset,
        eventId ?? message?.envelope.eventId.map(\.lowercasedText), outcome,
      ])
  }

  /// The timeline of `paymentId`, oldest first.
  static func fetchAll(paymentId: Int64, in db: some SQLConnection) throws -> [SagaStep] {
    try db.query(
      """
      SELECT id, payment_id, at, step, topic, "partition", "offset", event_id, outcome
      FROM saga_steps WHERE payment_id = ? ORDER BY id
      """, [paymentId]
    ).map { row in
      let id: Int64 = row["id"]
      guard let step = Kind(rawValue: row["step"]) else {
        throw PaymentsError(.internalError, "saga step \(id) has an unknown kind")
      }
      return SagaStep(
        id: id, paymentId: row["payment_id"], at: Date(paymentsMilliseconds: row["at"]), step: step,
        topic: row["topic"], partition: row["partition"], offset: row["offset"], eventId: row["event_id"],
        outcome: row["outcome"])
    }
  }
}
