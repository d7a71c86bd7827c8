public import Foundation
import GRDB

/// A parked compensation (`compensation_failures`): what was asked, why it could not be
/// applied, and, once an operator dealt with it, when and how.
public struct CompensationFailureRecord: Sendable, Hashable {
  public var id: Int64
  /// The payment the compensation named; it may not exist (`unknown-payment`).
  public var paymentId: Int64
  public var userId: Int64
  /// The refund that was asked for and not made.
  public var refundAmount: Int64
  /// `unknown-payment`, `amount-mismatch`, `already-rewarded`, `user-mismatch`.
  public var reasonCode: String
  /// The whole reason, code first.
  public var reason: String
  public var createdAt: Date
  public var resolvedAt: Date?
  /// The operator's note when resolving.
  public var note: String?

  public init(
    id: Int64, paymentId: Int64, userId: Int64, refundAmount: Int64, reasonCode: String, reason: String,
    createdAt: Date, resolvedAt: Date?, note: String?
  ) {
    self.id = id
    self.paymentId = paymentId
    self.userId = userId
    self.refundAmount = refundAmount
    self.reasonCode = reasonCode
    self.reason = reason
    self.createdAt = createdAt
    self.resolvedAt = resolvedAt
    self.note = note
  }

  public var isResolved: Bool { resolvedAt != nil }
}

extension CompensationFailureRecord {
  /// Parks a compensation; returns the row id.
  static func insert(
    paymentId: Int64, userId: Int64, refundAmount: Int64, reasonCode: String, reason: String, at now: Date,
    in db: Database
  ) throws -> Int64 {
    try db.execute(
      sql: """
        INSERT INTO compensation_failures (payment_id, user_id, refund_amount, reason_code, reason, created_at)
        VALUES (?, ?, ?, ?, ?, ?)
        """,
      arguments: [paymentId, userId, refundAmount, reasonCode, reason, now.paymentsMilliseconds])
    return db.lastInsertedRowID
  }

  /// Whether an unresolved record for `paymentId` exists.
  static func hasUnresolved(paymentId: Int64, in db: Database) throws -> Bool {
    try Bool.fetchOne(
      db, sql: "SELECT EXISTS (SELECT 1 FROM compensation_failures WHERE payment_id = ? AND resolved_at IS NULL)",
      arguments: [paymentId]) ?? false
  }

  /// Records oldest first; only unresolved ones when `unresolvedOnly`.
  static func fetchAll(unresolvedOnly: Bool, in db: Database) throws -> [CompensationFailureRecord] {
    try Row.fetchAll(
      db,
      sql: """
        SELECT id, payment_id, user_id, refund_amount, reason_code, reason, created_at, resolved_at, note
        FROM compensation_failures \(unresolvedOnly ? "WHERE resolved_at IS NULL" : "") ORDER BY id
        """
    ).map { row in
      CompensationFailureRecord(
        id: row["id"], paymentId: row["payment_id"], userId: row["user_id"], refundAmount: row["refund_amount"],
        reasonCode: row["reason_code"], reason: row["reason"], createdAt: Date(paymentsMilliseconds: row["created_at"]),
        resolvedAt: (row["resolved_at"] as Int64?).map(Date.init(paymentsMilliseconds:)), note: row["note"])
    }
  }
}
