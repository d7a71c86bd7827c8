import Foundation
import SagaStorage

/// The SQL of parked compensations (`compensation_failures`).
extension CompensationFailureRecord {
  /// Parks a compensation; returns the row id.
  static func insert(
    paymentId: Int64, userId: Int64, refundAmount: Int64, reasonCode: String, reason: String, at now: Date,
    in db: some SQLConnection
  ) throws -> Int64 {
    try db.insertReturningID(
      """
      INSERT INTO compensation_failures (payment_id, user_id, refund_amount, reason_code, reason, created_at)
      VALUES (?, ?, ?, ?, ?, ?)
      """, [paymentId, userId, refundAmount, reasonCode, reason, now.paymentsMilliseconds])
  }

  /// Whether an unresolved record for `paymentId` exists.
  static func hasUnresolved(paymentId: Int64, in db: some SQLConnection) throws -> Bool {
    try db.value(
      Bool.self, "SELECT EXISTS (SELECT 1 FROM compensation_failures WHERE payment_id = ? AND resolved_at IS NULL)",
      [paymentId]) ?? false
  }

  private static let columns = """
    SELECT id, payment_id, user_id, refund_amount, reason_code, reason, created_at, resolved_at, resolved_by,
           resolution, note
    FROM compensation_failures
    """

  /// Records oldest first; only unresolved ones when `unresolvedOnly`.
  static func fetchAll(unresolvedOnly: Bool, in db: some SQLConnection) throws -> [CompensationFailureRecord] {
    try db.query(columns + (unresolvedOnly ? " WHERE resolved_at IS NULL" : "") + " ORDER BY id")
      .map(decode)
  }

  /// The newest record of `paymentId` (open ones first), if any.
  static func latest(paymentId: Int64, in db: some SQLConnection) throws -> CompensationFailureRecord? {
    try db.query(columns + " WHERE payment_id = ? ORDER BY resolved_at IS NULL DESC, id DESC LIMIT 1", [paymentId])
      .first.map(decode)
  }

  /// How many records are still open (for status and metrics).
  static func unresolvedCount(in db: some SQLConnection) throws -> Int {
    try db.value(Int.self, "SELECT COUNT(*) FROM compensation_failures WHERE resolved_at IS NULL") ?? 0
  }

  /// A retry failed again: the record keeps waiting with the new reason.
  static func updateReason(id: Int64, reasonCode: String, reason: String, in db: some SQLConnection) throws {
    try db.execute(
      "UPDATE compensation_failures SET reason_code = ?, reason = ? WHERE id = ?", [reasonCode, reason, id])
  }

  /// Closes every open record of `paymentId`; returns how many.
  @discardableResult
  static func close(
    paymentId: Int64, resolution: Resolution, by actor: String, note: String?, at now: Date, in db: some SQLConnection
  ) throws -> Int {
    try db.execute(
      """
      UPDATE compensation_failures SET resolved_at = ?, resolved_by = ?, resolution = ?, note = ?
      WHERE payment_id = ? AND resolved_at IS NULL
      """, [now.paymentsMilliseconds, actor, resolution.rawValue, note, paymentId])
  }

  private static func decode(_ row: SQLRow) -> CompensationFailureRecord {
    CompensationFailureRecord(
      id: row["id"], paymentId: row["payment_id"], userId: row["user_id"], refundAmount: row["refund_amount"],
      reasonCode: row["reason_code"], reason: row["reason"], createdAt: Date(paymentsMilliseconds: row["created_at"]),
      resolvedAt: (row["resolved_at"] as Int64?).map(Date.init(paymentsMilliseconds:)), resolvedBy: row["resolved_by"],
      resolution: (row["resolution"] as String?).flatMap(Resolution.init(rawValue:)), note: row["note"])
  }
}
