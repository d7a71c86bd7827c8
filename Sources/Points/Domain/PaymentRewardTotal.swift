/// The rewards Points' ledger holds for one payment id, for the cross-database checks of
/// `sagactl verify` (which compare them with Payments' outcome of the same payment).
public struct PaymentRewardTotal: Sendable, Hashable {
  public var paymentId: Int64
  /// Ledger rows naming the payment (one per user at most; more than one is a violation).
  public var rewards: Int
  /// The points of those rows together.
  public var points: Int64

  public init(paymentId: Int64, rewards: Int, points: Int64) {
    self.paymentId = paymentId
    self.rewards = rewards
    self.points = points
  }
}
