public import Payments
public import Points

/// Outcome observers for metrics (wired by the daemon).
public struct SagaObservers: Sendable {
  public var compensation: (@Sendable (CompensationOutcome) -> Void)?
  public var reward: (@Sendable (RewardOutcome) -> Void)?

  public init(
    compensation: (@Sendable (CompensationOutcome) -> Void)? = nil, reward: (@Sendable (RewardOutcome) -> Void)? = nil
  ) {
    self.compensation = compensation
    self.reward = reward
  }
}
