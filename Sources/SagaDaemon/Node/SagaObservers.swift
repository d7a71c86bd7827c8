public import Payments
public import Points
public import SagaRuntime

/// Outcome observers for metrics (wired by the daemon). Each is called synchronously where
/// the outcome is decided, often inside a write transaction: keep them cheap (a counter).
public struct SagaObservers: Sendable {
  public var compensation: (@Sendable (CompensationOutcome) -> Void)?
  public var reward: (@Sendable (RewardOutcome) -> Void)?
  /// Every handler run of every consume worker of the node.
  public var record: (@Sendable (RecordObservation) -> Void)?
  /// Every `SagaNode.pay` call.
  public var payment: (@Sendable (PaymentObservation) -> Void)?
  /// For each reward credited: from the `ReservationCompleted`'s `occurredAt` (the payment's
  /// commit) to Points' reward transaction.
  public var rewardLatency: (@Sendable (Duration) -> Void)?

  public init(
    compensation: (@Sendable (CompensationOutcome) -> Void)? = nil, reward: (@Sendable (RewardOutcome) -> Void)? = nil,
    record: (@Sendable (RecordObservation) -> Void)? = nil, payment: (@Sendable (PaymentObservation) -> Void)? = nil,
    rewardLatency: (@Sendable (Duration) -> Void)? = nil
  ) {
    self.compensation = compensation
    self.reward = reward
    self.record = record
    self.payment = payment
    self.rewardLatency = rewardLatency
  }
}
