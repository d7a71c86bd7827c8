/// Where a payment's saga stands (Docs/design.md, "Payment states"), stored as its raw value in
/// `payments.status`:
///
/// ```
/// PAID ─┬─▶ REWARDED                       (point-reward-completed)
///       └─▶ REWARD_FAILED ─▶ REFUNDED      (point-reward-failed, compensate-payment)
/// PAID / REWARD_FAILED ─▶ REFUNDED          (compensate-payment may overtake point-reward-failed)
/// any but REFUNDED ─▶ COMPENSATION_FAILED   (a compensation that cannot be applied)
/// ```
public enum PaymentStatus: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
  /// Charged and announced; the reward outcome is not known yet.
  case paid = "PAID"
  /// Points credited the reward. Terminal.
  case rewarded = "REWARDED"
  /// Points gave up on the reward; a compensation is on its way.
  case rewardFailed = "REWARD_FAILED"
  /// The paid amount went back to the wallet and the reservation is cancelled. Terminal.
  case refunded = "REFUNDED"
  /// A compensation could not be applied; parked for an operator. Terminal for the saga.
  case compensationFailed = "COMPENSATION_FAILED"

  /// True when no saga event moves the payment any more; late events only add a step.
  public var isTerminal: Bool {
    switch self {
    case .rewarded, .refunded, .compensationFailed: true
    case .paid, .rewardFailed: false
    }
  }

  public var description: String { rawValue }
}
