import Foundation
import SagaCore
import SagaStorage

/// The SQL behind the stuck-saga sweeper, on the payment's tables and `saga_republishes`.
enum StuckSagaQueries {
  /// A saga due for the sweeper, with what a re-announcement needs.
  struct Candidate {
    var saga: StuckSaga
    var traceId: String
    var traceparent: String?
    /// The event id `ReservationCompleted` was first published under (from the saga's first
    /// step; nil once the timeline was purged).
    var eventId: String?
  }

  private static let select = """
    SELECT p.id, p.user_id, p.reservation_id, p.amount, p.status, COALESCE(r.republish_count, 0),
           r.last_republished_at, r.reported_at, p.created_at, p.updated_at, p.correlation_id, p.trace_id,
           p.traceparent, r.reason,
           (SELECT s.event_id FROM saga_steps s WHERE s.payment_id = p.id AND s.step = 'payment-accepted'
            ORDER BY s.id LIMIT 1)
    FROM payments p LEFT JOIN saga_republishes r ON r.payment_id = p.id
    WHERE p.status IN ('PAID', 'REWARD_FAILED')
    """

  /// Sagas whose last change and last re-announcement are at or before `cutoff`, except
  /// those already reported at the current limit.
  static func due(cutoff: Int64, maxRepublish: Int, limit: Int, in db: some SQLConnection) throws -> [Candidate] {
    try db.query(
      select + """
         AND p.updated_at <= ? AND COALESCE(r.last_republished_at, 0) <= ?
         AND (COALESCE(r.republish_count, 0) < ? OR r.reported_at IS NULL)
        ORDER BY p.id LIMIT ?
        """, [cutoff, cutoff, maxRepublish, limit]
    ).map { row in try Candidate(saga: decode(row), traceId: row[11], traceparent: row[12], eventId: row[14]) }
  }

  /// Writes the re-announcement (outbox row, counter, saga step).
  static func republish(_ candidate: Candidate, maxRepublish: Int, at now: Date, in db: some SQLConnection) throws {
    let saga = candidate.saga
    let trace =
      candidate.traceparent.flatMap(TraceContext.init(traceparent:))
      ?? TraceContext(traceId: candidate.traceId, spanId: TraceContext.start().spanId)
      ?? .start()
    // The original event id: a peer that deduplicates by event id drops the copy when it
    // has the original (sagad's own inbox tells the copies apart by `sagad-republished`).
    let envelope = EventEnvelope(
      eventType: .reservationCompleted, trace: trace, correlationId: saga.correlationId,
      producer: SagaService.payments.producerName,
      eventId: candidate.eventId.flatMap(UUID.init(uuidString:)) ?? TimeOrderedUUID.next(), occurredAt: now,
      extraHeaders: [RecordHeader(name: HeaderName.republished, value: String(saga.republishCount))])
    try EventOutbox.append(
      ReservationCompleted(
        paymentId: saga.paymentId, userId: saga.userId, reservationId: saga.reservationId, paidAmount: saga.amount),
      envelope: envelope, in: db)
    try db.execute(
      """
      INSERT INTO saga_republishes (payment_id, republish_count, last_republished_at, reported_at)
      VALUES (?, ?, ?, NULL)
      ON CONFLICT (payment_id) DO UPDATE SET
        republish_count = excluded.republish_count, last_republished_at = excluded.last_republished_at,
        reported_at = NULL
      """, [saga.paymentId, saga.republishCount, now.paymentsMilliseconds])
    let since = RFC3339Timestamp.format(saga.updatedAt)
    try SagaStep.record(
      .republished, paymentId: saga.paymentId,
      outcome: "still \(saga.status) since \(since): ReservationCompleted re-announced"
        + " (\(saga.republishCount) of \(maxRepublish))",
      eventId: envelope.eventId.lowercasedText, at: now, in: db)
  }

  /// Marks the saga reported, so it is logged once and listed by `stuckSagas()`.
  static func report(_ saga: StuckSaga, at now: Date, in db: some SQLConnection) throws {
    let millis = now.paymentsMilliseconds
    try db.execute(
      """
      INSERT INTO saga_republishes (payment_id, republish_count, last_republished_at, reported_at, reason)
      VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (payment_id) DO UPDATE SET reported_at = excluded.reported_at, reason = excluded.reason
      """, [saga.paymentId, saga.republishCount, millis, millis, saga.reason])
    try SagaStep.record(
      .stuckReported, paymentId: saga.paymentId,
      outcome: "still \(saga.status): reported, an operator must look; \(saga.reason ?? "no outcome")", at: now, in: db)
  }

  static func fetchAll(includeRepublishing: Bool, in db: some SQLConnection) throws -> [StuckSaga] {
    try db.query(
      select
        + (includeRepublishing ? " AND r.payment_id IS NOT NULL" : " AND r.reported_at IS NOT NULL")
        + " ORDER BY p.id"
    ).map(decode)
  }

  /// Sagas without an outcome last changed at or before `cutoff`, and their total count.
  static func unfinished(cutoff: Int64, limit: Int, in db: some SQLConnection) throws -> (
    sagas: [StuckSaga], total: Int
  ) {
    let sagas = try db.query(select + " AND p.updated_at <= ? ORDER BY p.id LIMIT ?", [cutoff, limit]).map(decode)
    let total =
      sagas.count < limit
      ? sagas.count
      : try db.value(
        Int.self, "SELECT COUNT(*) FROM payments WHERE status IN ('PAID', 'REWARD_FAILED') AND updated_at <= ?",
        [cutoff]) ?? 0
    return (sagas, total)
  }

  static func reportedCount(in db: some SQLConnection) throws -> Int {
    try db.value(
      Int.self,
      """
      SELECT COUNT(*) FROM saga_republishes r JOIN payments p ON p.id = r.payment_id
      WHERE r.reported_at IS NOT NULL AND p.status IN ('PAID', 'REWARD_FAILED')
      """) ?? 0
  }

  private static func decode(_ row: SQLRow) throws -> StuckSaga {
    let id: Int64 = row[0]
    guard let status = PaymentStatus(rawValue: row[4]) else {
      throw PaymentsError(.internalError, "payment \(id) has an unknown status")
    }
    return StuckSaga(
      paymentId: id, userId: row[1], reservationId: row[2], amount: row[3], status: status, republishCount: row[5],
      lastRepublishedAt: (row[6] as Int64?).map(Date.init(paymentsMilliseconds:)),
      reportedAt: (row[7] as Int64?).map(Date.init(paymentsMilliseconds:)),
      createdAt: Date(paymentsMilliseconds: row[8]), updatedAt: Date(paymentsMilliseconds: row[9]),
      correlationId: row[10], reason: row[13])
  }
}
