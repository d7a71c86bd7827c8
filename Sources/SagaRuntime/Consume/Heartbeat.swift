import Synchronization

/// A loop's sign of life, for the systemd watchdog: the loop bumps a counter each time
/// round (a poll that returned, with or without records) and marks itself stopped when
/// it ends. A watcher that sees the counter advance knows the loop is not wedged in a
/// call; the cost per round is one relaxed atomic add.
public final class Heartbeat: Sendable {
  private let beats = Atomic<UInt64>(0)
  private let ended = Atomic<Bool>(false)

  public init() {}

  /// One more round of the loop.
  public func beat() { beats.add(1, ordering: .relaxed) }

  /// The loop has returned (or thrown); a stopped loop is not expected to beat.
  public func stop() { ended.store(true, ordering: .relaxed) }

  /// The loop is running again (a supervisor restarted it).
  public func restart() { ended.store(false, ordering: .relaxed) }

  public var count: UInt64 { beats.load(ordering: .relaxed) }
  public var isStopped: Bool { ended.load(ordering: .relaxed) }
}
