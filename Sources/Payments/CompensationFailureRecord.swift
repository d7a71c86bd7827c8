public import Foundation
import GRDB

/// A parked compensation (`compensation_failures`): what was asked, why it could not be
/// applied, and, once an operator dealt with it, when, by whom and how.
public struct CompensationFailureRecord: Sendable, Hashable {
  /// How an operator closed a parked compensation.
  public enum Resolution: String, Sendable, Hashable, Codable, CustomStringConvertible {
    /// `compensations retry` made the refund: the payment is `REFUNDED`.
    case retried
    /// `compensations resolve`: handled outside sagad; the payment stays
    /// `COMPENSATION_FAILED` but no longer waits for anyone.
    case resolved

    public var description: String { rawValue }
  }

  public var id: Int64
  /// The payment the compensation named; it may not exist (`unknown-payment`).
  public var paymentId: Int64
  public var userId: Int64
  /// The refund that was asked for and not made.
  public var refundAmount: Int64
  /// `unknown-payment`, `amount-mismatch`, `already-rewarded`, `user-mismatch`, or the
  /// code of the refund's own failure (`injected-permanent`, `exhausted`, …).
  public var reasonCode: String
  /// The whole reason, code first; a retry that failed again replaces it.
  public var reason: String
  public var createdAt: Date
  public var resolvedAt: Date?
  /// Who closed it (what the admin client said, next to the audit log's uid).
  public var resolvedBy: String?
  public var resolution: Resolution?
  /// The operator's note when resolving, or what the retry did.
  public var note: String?

  public init(
    id: Int64, paymentId: Int64, userId: Int64, refundAmount: Int64, reasonCode: String, reason: String,
    createdAt: Date, resolvedAt: Date?, resolvedBy: String? = nil, resolution: Resolution? = nil, note: String?
  ) {
    self.id = id
    self.paymentId = paymentId
    self.userId = userId
    self.refundAmount = refundAmount
    self.reasonCode = reasonCode
    self.reason = reason
    self.createdAt = createdAt
    self.resolvedAt = resolvedAt
    self.resolvedBy = resolvedBy
    self.resolution = resolution
    self.note = note
  }

  public var isResolved: Bool { resolvedAt != nil }

  /// `open` while it waits for an operator, else `retried` or `resolved`.
  public var status: String { resolution?.rawValue ?? (isResolved ? Resolution.resolved.rawValue : "open") }
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

  private static let columns = """
    SELECT id, payment_id, user_id, refund_amount, reason_code, reason, created_at, resolved_at, resolved_by,
           resolution, note
    FROM compensation_failures
    """

  /// Records oldest first; only unresolved ones when `unresolvedOnly`.
  static func fetchAll(unresolvedOnly: Bool, in db: Database) throws -> [CompensationFailureRecord] {
    try Row.fetchAll(db, sql: columns + (unresolvedOnly ? " WHERE resolved_at IS NULL" : "") + " ORDER BY id")
      .map(decode)
  }

  /// The newest record of `paymentId` (open ones first), if any.
  static func latest(paymentId: Int64, in db: Database) throws -> CompensationFailureRecord? {
    try Row.fetchOne(
      db, sql: columns + " WHERE payment_id = ? ORDER BY resolved_at IS NULL DESC, id DESC LIMIT 1",
      arguments: [paymentId]
    ).map(decode)
  }

  /// How many records are still open (for status and metrics).
  static func unresolvedCount(in db: Database) throws -> Int {
    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM compensation_failures WHERE resolved_at IS NULL") ?? 0
  }

  /// A retry failed again: the record keeps waiting with the new reason.
  static func updateReason(id: Int64, reasonCode: String, reason: String, in db: Database) throws {
    try db.execute(
      sql: "UPDATE compensation_failures SET reason_code = ?, reason = ? WHERE id = ?",
      arguments: [reasonCode, reason, id])
  }

  /// Closes every open record of `paymentId`; returns how many.
  @discardableResult
  static func close(
    paymentId: Int64, resolution: Resolution, by actor: String, note: String?, at now: Date, in db: Database
  ) throws -> Int {
    try db.execute(
      sql: """
        UPDATE compensation_failures SET resolved_at = ?, resolved_by = ?, resolution = ?, note = ?
        WHERE payment_id = ? AND resolved_at IS NULL
        """,
      arguments: [now.paymentsMilliseconds, actor, resolution.rawValue, note, paymentId])
    return db.changesCount
  }

  private static func decode(_ row: Row) -> CompensationFailureRecord {
    CompensationFailureRecord(
      id: row["id"], paymentId: row["payment_id"], userId: row["user_id"], refundAmount: row["refund_amount"],
      reasonCode: row["reason_code"], reason: row["reason"], createdAt: Date(paymentsMilliseconds: row["created_at"]),
      resolvedAt: (row["resolved_at"] as Int64?).map(Date.init(paymentsMilliseconds:)), resolvedBy: row["resolved_by"],
      resolution: (row["resolution"] as String?).flatMap(Resolution.init(rawValue:)), note: row["note"])
  }
}
