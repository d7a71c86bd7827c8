/// How the supervisor restarts a long-running task that threw (Docs/design.md,
/// "Supervision"; `supervisor.*`): after an exponential back-off with jitter, and not more than
/// `maxRestarts` times within `window`; past that the task is `failed` until an
/// operator restarts it.
public struct SupervisorSettings: Sendable, Equatable {
  public var maxRestarts = 5
  public var window: Duration = .seconds(60)
  /// The delay before the first restart; doubles with each failure in the window.
  public var initialBackoff: Duration = .seconds(1)
  public var maxBackoff: Duration = .seconds(30)
  /// Each delay is scaled by a random factor in [1 - jitter, 1 + jitter], so tasks that
  /// failed together (a broker outage) do not restart in lockstep.
  public var jitter = 0.2

  public init() {}

  /// The delay before restarting after the `failures`-th failure within the window.
  /// - Parameter random: a value in [0, 1) placing the delay in the jitter range.
  public func backoff(afterFailures failures: Int, random: Double) -> Duration {
    let doublings = min(max(failures - 1, 0), 30)
    let base = min(initialBackoff * (1 << doublings), maxBackoff)
    return base * (1 + jitter * (2 * random - 1))
  }
}
