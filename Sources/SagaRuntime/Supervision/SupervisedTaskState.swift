/// Where a supervised task is in its life; shown by `sagactl workers` and `status`.
public enum SupervisedTaskState: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  /// Being started (first start, or a restart).
  case starting
  case running
  /// Threw; waits for its next start (`SupervisedTaskSnapshot.nextStartAt`).
  case backoff
  /// Threw more than `maxRestarts` times within the window; waits for an operator restart.
  case failed
  /// Running, but an operator paused it (a consume worker fetching nothing).
  case paused
  /// Not running: the node is stopping or stopped, or the task returned on its own.
  case stopped

  public var description: String { rawValue }
}
