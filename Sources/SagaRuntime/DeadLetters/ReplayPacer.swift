import SagaCore
import Synchronization

/// Spaces replayed messages `interval` apart, across every replay running at once, so
/// `dlt.replay_rate` bounds what all operators together send.
final class ReplayPacer: Sendable {
  private let interval: Duration
  private let clock: SagaClock
  private let next = Mutex<SagaClock.Instant?>(nil)

  init(interval: Duration, clock: SagaClock = .continuous) {
    self.interval = interval
    self.clock = clock
  }

  /// Waits for the next free slot and takes it.
  func waitForSlot() async throws {
    guard interval > .zero else { return }
    let now = clock.now
    let slot = next.withLock { next -> SagaClock.Instant in
      let slot = max(now, next ?? now)
      next = slot + interval
      return slot
    }
    if slot > now { try await clock.sleep(until: slot) }
  }
}
