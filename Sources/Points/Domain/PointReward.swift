public import Foundation
public import SagaCore

/// A credited reward: one row of `point_ledger`. It holds everything the
/// `PointRewardCompleted` it caused carried, so a duplicate can announce it again unchanged.
public struct PointReward: Sendable, Hashable {
  /// The ledger row id, announced as `pointId`.
  public let pointId: Int64
  public let userId: Int64
  public let paymentId: Int64
  public let reservationId: Int64
  /// What the user paid, as `ReservationCompleted` said.
  public let paidAmount: Int64
  /// The points credited (`rewardedAmount`); 0 is a valid reward.
  public let amount: Int64
  /// When it was credited (millisecond precision).
  public let createdAt: Date

  public init(
    pointId: Int64, userId: Int64, paymentId: Int64, reservationId: Int64, paidAmount: Int64, amount: Int64,
    createdAt: Date
  ) {
    self.pointId = pointId
    self.userId = userId
    self.paymentId = paymentId
    self.reservationId = reservationId
    self.paidAmount = paidAmount
    self.amount = amount
    self.createdAt = createdAt
  }

  /// The announcement of this reward; the same event however often it is re-announced.
  public var event: PointRewardCompleted {
    PointRewardCompleted(
      pointId: pointId, userId: userId, rewardedAmount: amount, reservationId: reservationId, paymentId: paymentId)
  }
}
