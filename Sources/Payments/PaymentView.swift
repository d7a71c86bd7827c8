public import Foundation
import GRDB

/// One payment as `sagactl payment <id>` shows it: the payment row with its reservation's
/// state and refund, read in one query.
public struct PaymentView: Sendable, Hashable {
  public var paymentId: Int64
  public var userId: Int64
  public var reservationId: Int64
  public var scheduleId: Int64
  public var seat: String?
  public var amount: Int64
  public var status: PaymentStatus
  public var reservationStatus: ReservationStatus
  /// Set when Points reported the reward (`REWARDED`).
  public var rewardAmount: Int64?
  /// Points' ledger row for the reward, when reported.
  public var pointId: Int64?
  /// Why the reward or the compensation failed, when one did.
  public var failureReason: String?
  /// The amount refunded, when a refund was made (always `amount`).
  public var refundedAmount: Int64?
  public var traceId: String
  public var correlationId: String
  public var createdAt: Date
  public var updatedAt: Date

  public init(
    paymentId: Int64, userId: Int64, reservationId: Int64, scheduleId: Int64, seat: String?, amount: Int64,
    status: PaymentStatus, reservationStatus: ReservationStatus, rewardAmount: Int64?, pointId: Int64?,
    failureReason: String?, refundedAmount: Int64?, traceId: String, correlationId: String, createdAt: Date,
    updatedAt: Date
  ) {
    self.paymentId = paymentId
    self.userId = userId
    self.reservationId = reservationId
    self.scheduleId = scheduleId
    self.seat = seat
    self.amount = amount
    self.status = status
    self.reservationStatus = reservationStatus
    self.rewardAmount = rewardAmount
    self.pointId = pointId
    self.failureReason = failureReason
    self.refundedAmount = refundedAmount
    self.traceId = traceId
    self.correlationId = correlationId
    self.createdAt = createdAt
    self.updatedAt = updatedAt
  }
}

extension PaymentView {
  private static let select = """
    SELECT p.id, p.user_id, p.reservation_id, p.schedule_id, r.seat, p.amount, p.status,
           r.status AS reservation_status, p.reward_amount, p.point_id, p.failure_reason,
           f.amount AS refunded_amount, p.trace_id, p.correlation_id, p.created_at, p.updated_at
    FROM payments p
    JOIN reservations r ON r.id = p.reservation_id
    LEFT JOIN refunds f ON f.payment_id = p.id
    """

  // The lookups run for every pay and every saga event: their statements are cached on
  // the connection rather than parsed again each time.
  private static let byId = select + " WHERE p.id = ?"
  private static let byReservation = select + " WHERE p.reservation_id = ?"
  private static let byKey = select + " WHERE p.user_id = ? AND p.schedule_id = ?"

  /// The payment with id `paymentId`, if any.
  static func fetch(id paymentId: Int64, in db: Database) throws -> PaymentView? {
    try Row.fetchOne(db.cachedStatement(sql: byId), arguments: [paymentId]).map(decode)
  }

  /// The payment of reservation `reservationId` (one per reservation), if any.
  static func fetch(reservationId: Int64, in db: Database) throws -> PaymentView? {
    try Row.fetchOne(db.cachedStatement(sql: byReservation), arguments: [reservationId]).map(decode)
  }

  /// The payment holding the idempotency key (userId, scheduleId), if any.
  static func fetch(userId: Int64, scheduleId: Int64, in db: Database) throws -> PaymentView? {
    try Row.fetchOne(db.cachedStatement(sql: byKey), arguments: [userId, scheduleId]).map(decode)
  }

  /// Whether a payment holds the idempotency key: one index probe, no join, for `pay`,
  /// where the answer is almost always no.
  static func exists(userId: Int64, scheduleId: Int64, in db: Database) throws -> Bool {
    try Bool.fetchOne(
      db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM payments WHERE user_id = ? AND schedule_id = ?)"),
      arguments: [userId, scheduleId]) ?? false
  }

  /// Moves the payment to `status`, stamping `updated_at`.
  static func setStatus(
    _ status: PaymentStatus, paymentId: Int64, failureReason: String? = nil, at now: Date, in db: Database
  ) throws {
    try db.cachedStatement(
      sql: """
        UPDATE payments SET status = ?, failure_reason = COALESCE(?, failure_reason), updated_at = ?
        WHERE id = ?
        """
    ).execute(arguments: [status.rawValue, failureReason, now.paymentsMilliseconds, paymentId])
  }

  /// Reads the columns by position, in the order of `select`: by name, GRDB compares
  /// each name case-insensitively against every column (lowercasing both), which cost
  /// more than the query on the saga's hot path.
  private static func decode(_ row: Row) throws -> PaymentView {
    let id: Int64 = row[0]
    // The CHECK constraints admit only known values; a stranger means the file was
    // edited by hand, which an operator needs to hear about rather than a default.
    guard let status = PaymentStatus(rawValue: row[6]), let reservationStatus = ReservationStatus(rawValue: row[7])
    else {
      throw PaymentsError(
        .internalError, "payment \(id) has an unknown status \(String(describing: row[6] as String?))")
    }
    return PaymentView(
      paymentId: id, userId: row[1], reservationId: row[2], scheduleId: row[3], seat: row[4], amount: row[5],
      status: status, reservationStatus: reservationStatus, rewardAmount: row[8], pointId: row[9],
      failureReason: row[10], refundedAmount: row[11], traceId: row[12], correlationId: row[13],
      createdAt: Date(paymentsMilliseconds: row[14]), updatedAt: Date(paymentsMilliseconds: row[15]))
  }
}
