public import Foundation
public import SagaCore

/// A reward that failed for good: one row of `reward_failures`. Both events the decision
/// caused are derived from it, so a duplicate re-announces them byte for byte.
public struct RewardFailure: Sendable, Hashable {
  /// The row id.
  public let id: Int64
  public let userId: Int64
  public let paymentId: Int64
  public let reservationId: Int64
  /// What the user paid: the amount Payments is asked to refund.
  public let paidAmount: Int64
  /// Why, as a stable code (e.g. `user-not-enrolled`).
  public let reasonCode: SagaError.Code
  /// Why, for people (e.g. `user 7 has no point account`).
  public let reason: String
  /// When the failure was decided (millisecond precision).
  public let failedAt: Date

  public init(
    id: Int64, userId: Int64, paymentId: Int64, reservationId: Int64, paidAmount: Int64, reasonCode: SagaError.Code,
    reason: String, failedAt: Date
  ) {
    self.id = id
    self.userId = userId
    self.paymentId = paymentId
    self.reservationId = reservationId
    self.paidAmount = paidAmount
    self.reasonCode = reasonCode
    self.reason = reason
    self.failedAt = failedAt
  }

  /// The failure as the error it was: code first, as operators see it in logs and events.
  public var error: SagaError { SagaError(reasonCode, reason, failureClass: .permanent) }

  /// The `PointRewardFailed` announcing it; its reason is `code: message`.
  public var failedEvent: PointRewardFailed {
    PointRewardFailed(userId: userId, paymentId: paymentId, reservationId: reservationId, reason: error.description)
  }

  /// The `CompensatePayment` Points sends on its own (the saga has no orchestrator):
  /// refund exactly what was paid.
  public var compensation: CompensatePayment {
    CompensatePayment(
      paymentId: paymentId, userId: userId, refundAmount: paidAmount,
      reason: "point reward failed, compensating the payment: \(error.description)")
  }
}
