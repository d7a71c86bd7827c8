/// How dead letters are consumed into the store and replayed from it (`dlt.*`).
public struct DeadLetterSettings: Sendable, Equatable {
  /// Replayed messages per second at most (`dlt.replay_rate`), so that replaying a large
  /// backlog does not swamp the consumers that are also serving live traffic.
  public var replayRate: Double = 100
  /// Most DLT records stored in one transaction.
  public var batchMax = 500
  /// How long one poll of the DLT worker waits for a first record.
  public var pollTimeout: Duration = .milliseconds(250)
  /// Attempts of a batch whose storing fails with a retriable storage error before the
  /// worker throws (the supervisor restarts it; nothing was committed, nothing is lost).
  public var storeAttempts = 3

  public init() {}

  /// The pause between two replayed messages.
  public var replayInterval: Duration {
    guard replayRate.isFinite, replayRate > 0 else { return .zero }
    return .nanoseconds(Int64((1e9 / replayRate).rounded()))
  }
}
