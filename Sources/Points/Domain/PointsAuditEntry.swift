/// One decision Points recorded for a payment, as `verify` compares it with Payments' payment
/// of that id: a reward credited, or a failure. A forged `ReservationCompleted` (for a payment
/// that does not exist, or with another amount) shows up here and nowhere in Payments.
public struct PointsAuditEntry: Sendable, Hashable, Codable {
  public var paymentId: Int64
  public var userId: Int64
  /// The `paidAmount` the event that caused it carried.
  public var paidAmount: Int64
  /// The points credited; nil for a failure.
  public var rewardedPoints: Int64?

  public init(paymentId: Int64, userId: Int64, paidAmount: Int64, rewardedPoints: Int64?) {
    self.paymentId = paymentId
    self.userId = userId
    self.paidAmount = paidAmount
    self.rewardedPoints = rewardedPoints
  }
}
