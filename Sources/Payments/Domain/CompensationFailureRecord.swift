public import Foundation

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
