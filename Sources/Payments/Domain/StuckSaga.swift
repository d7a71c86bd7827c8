public import Foundation

/// A payment whose saga has no outcome yet (`PAID`, or `REWARD_FAILED` waiting for its
/// `CompensatePayment`) and that the stuck-saga sweeper has re-announced.
public struct StuckSaga: Sendable, Hashable {
  public var paymentId: Int64
  public var userId: Int64
  public var reservationId: Int64
  public var amount: Int64
  public var status: PaymentStatus
  /// How many times `ReservationCompleted` was re-announced (the last `sagad-republished`).
  public var republishCount: Int
  public var lastRepublishedAt: Date?
  /// When the sweeper gave up (`sweeper.max_republish` reached) and reported it; nil
  /// while it is still being re-announced.
  public var reportedAt: Date?
  public var createdAt: Date
  public var updatedAt: Date
  public var correlationId: String
  /// Why the sweeper reported it rather than re-announcing it; nil while re-announcing.
  public var reason: String?

  public init(
    paymentId: Int64, userId: Int64, reservationId: Int64, amount: Int64, status: PaymentStatus,
    republishCount: Int, lastRepublishedAt: Date?, reportedAt: Date?, createdAt: Date, updatedAt: Date,
    correlationId: String, reason: String? = nil
  ) {
    self.paymentId = paymentId
    self.userId = userId
    self.reservationId = reservationId
    self.amount = amount
    self.status = status
    self.republishCount = republishCount
    self.lastRepublishedAt = lastRepublishedAt
    self.reportedAt = reportedAt
    self.createdAt = createdAt
    self.updatedAt = updatedAt
    self.correlationId = correlationId
    self.reason = reason
  }

  /// Whether the sweeper stopped re-announcing it: only an operator can move it on.
  public var isOverLimit: Bool { reportedAt != nil }
}

/// What one sweep did (`PaymentsService.republishStuck`).
public struct StuckSweep: Sendable, Hashable {
  /// Re-announced in this sweep, with their new count.
  public var republished: [StuckSaga]
  /// Reached the limit in this sweep and were reported (each exactly once).
  public var reported: [StuckSaga]
  /// Whether the sweep stopped at its row limit (more may be due right away).
  public var truncated: Bool

  public init(republished: [StuckSaga] = [], reported: [StuckSaga] = [], truncated: Bool = false) {
    self.republished = republished
    self.reported = reported
    self.truncated = truncated
  }
}
