public import SagaCore

/// What the `reservation-completed` handler decided for one message, for metrics
/// (`sagad_point_rewards_total{result}`) and logs.
public enum RewardOutcome: Sendable, Hashable {
  /// Credited `amount` points (0 included) and announced `PointRewardCompleted`.
  case rewarded(amount: Int64)
  /// Failed for good with `reason`; `PointRewardFailed` and `CompensatePayment` were written.
  case failed(reason: SagaError)
  /// The (user, payment) was already decided: nothing changed, the recorded outcome was
  /// announced again.
  case duplicate

  /// A bounded label value: `rewarded`, `failed` or `duplicate`.
  public var result: String {
    switch self {
    case .rewarded: "rewarded"
    case .failed: "failed"
    case .duplicate: "duplicate"
    }
  }
}
