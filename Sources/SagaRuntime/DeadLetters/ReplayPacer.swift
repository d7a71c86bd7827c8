import Synchronization

/// Spaces replayed messages `interval` apart, across every replay running at once, so
/// `dlt.replay_rate` bounds what all operators together send.
final class ReplayPacer: Sendable {
  private let interval: Duration
  private let next = Mutex<ContinuousClock.Instant?>(nil)

  init(interval: Duration) {
    self.interval = interval
  }

  /// Waits for the next free slot and takes it.
  func waitForSlot() async throws {
    guard interval > .zero else { return }
    let now = ContinuousClock.now
    let slot = next.withLock { next -> ContinuousClock.Instant in
      let slot = max(now, next ?? now)
      next = slot + interval
      return slot
    }
    if slot > now { try await Task.sleep(until: slot, clock: .continuous) }
  }
}
