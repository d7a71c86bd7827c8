public import Foundation

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
