import Foundation
public import Logging
public import SagaCore
public import SagaRuntime
import SagaStorage
public import ServiceLifecycle
import Synchronization

/// Heals sagas whose hand-off was lost (Docs/design.md, "Stuck sagas"): every `interval` it asks Payments
/// for payments still `PAID` or `REWARD_FAILED` longer than `stuckAfter`, has them
/// re-announced through the outbox (Points answers a duplicate with its recorded outcome)
/// and wakes the relay. After `maxRepublish` re-announcements a saga is reported instead:
/// logged once, listed by `stuckSagas()`, counted in `statistics.stuck`; never dropped
/// silently. The decisions and counters live in the Payments database, so a restart
/// neither forgets a count nor logs a report twice.
///
/// A `Service` of Payments rather than a generic timer in the runtime: its settings, its
/// counters and what a sweep does are all Payments' business; the runtime's supervisor
/// runs and restarts it like any other long-running task.
public final class StuckSagaSweeper: Service, Sendable {
  public let name = "stuck-saga-sweeper"
  private let payments: PaymentsService
  private let relayWakeup: Wakeup?
  /// What runs Points: toward a peer without idempotency nothing is re-announced.
  private let pointsPeer: PeerKind
  private let clock: SagaClock
  private let logger: Logger
  private let state: Mutex<(settings: SweeperSettings, stats: SweeperStatistics)>
  /// Several instances on one PostgreSQL database: only the holder sweeps. Nil on SQLite.
  private let lease: (any DatabaseLease)?

  /// - Parameters:
  ///   - relayWakeup: the Payments relay's, signalled when a sweep wrote outbox rows.
  ///   - pointsPeer: `peers.points`; `.spring` reports stuck sagas without re-announcing.
  ///   - clock: what the sweeps wait on between them, and whose wall time decides what is
  ///     stuck (tests advance a manual one instead of waiting).
  public init(
    payments: PaymentsService, settings: SweeperSettings = SweeperSettings(), relayWakeup: Wakeup? = nil,
    pointsPeer: PeerKind = .sagad, clock: SagaClock = .continuous, logger: Logger
  ) {
    self.payments = payments
    self.pointsPeer = pointsPeer
    self.relayWakeup = relayWakeup
    self.clock = clock
    var logger = logger
    logger[metadataKey: "service"] = "\(name)"
    self.logger = logger
    self.lease = payments.database.storage.lease(named: "sweeper payments")
    var statistics = SweeperStatistics()
    statistics.leaseHeld = lease == nil ? nil : false
    self.state = Mutex((settings, statistics))
  }

  /// The settings in force; `update` changes them for the next sweep (SIGHUP reload).
  public var settings: SweeperSettings { state.withLock { $0.settings } }

  public func update(_ settings: SweeperSettings) {
    state.withLock { $0.settings = settings }
  }

  public var statistics: SweeperStatistics { state.withLock { $0.stats } }

  public func run() async throws {
    logger.info("sweeping", metadata: ["settings": "\(settings)"])
    do {
      try await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
          if let lease = self.lease {
            let held = await lease.tryAcquire()
            self.state.withLock { $0.stats.leaseHeld = held }
            guard held else {
              try await self.clock.sleep(for: min(self.settings.interval, .seconds(1)))
              continue
            }
          }
          do {
            try await self.sweep()
          } catch {
            // The database may be busy or briefly failing: the next sweep tries again, and
            // nothing is lost meanwhile (the sagas stay where they are).
            self.state.withLock { $0.stats.lastError = "\(error)" }
            self.logger.warning("sweep failed", metadata: ["error": "\(error)"])
          }
          try await self.clock.sleep(for: self.settings.interval)
        }
      }
    } catch is CancellationError {
      // Graceful shutdown.
    }
    await lease?.release()
    logger.info("stopped")
  }

  /// One sweep now: re-announces or reports every saga due, in batches of
  /// `settings.batchMax`. Returns what it did (tests call it with a moved clock).
  @discardableResult
  public func sweep() async throws(PaymentsError) -> StuckSweep {
    let settings = self.settings
    let now = clock.wallTime
    var total = StuckSweep()
    repeat {
      let round = try await payments.republishStuck(
        now: now, stuckAfter: settings.stuckAfter, maxRepublish: settings.maxRepublish, peer: pointsPeer,
        limit: settings.batchMax)
      total.republished += round.republished
      total.reported += round.reported
      total.truncated = round.truncated
      if !round.republished.isEmpty { relayWakeup?.signal() }
    } while total.truncated && !Task.isCancelled
    for saga in total.reported {
      logger.error(
        "saga stuck: an operator must look (`sagactl stuck`)",
        metadata: [
          "paymentId": "\(saga.paymentId)", "status": "\(saga.status)", "republished": "\(saga.republishCount)",
          "correlationId": "\(saga.correlationId)", "reason": "\(saga.reason ?? "")",
        ])
    }
    if !total.republished.isEmpty {
      logger.notice(
        "re-announced stuck sagas",
        metadata: ["count": "\(total.republished.count)", "paymentIds": "\(total.republished.map(\.paymentId))"])
    }
    let stuck = try await payments.stuckSagaCount()
    state.withLock {
      $0.stats.sweeps += 1
      $0.stats.republished += total.republished.count
      $0.stats.reported += total.reported.count
      $0.stats.stuck = stuck
      $0.stats.lastSweepAt = now
      $0.stats.lastError = nil
    }
    return total
  }

  /// The sagas reported over the limit, oldest first (with `includeRepublishing`, also
  /// those still being re-announced).
  public func stuckSagas(includeRepublishing: Bool = false) async throws(PaymentsError) -> [StuckSaga] {
    try await payments.stuckSagas(includeRepublishing: includeRepublishing)
  }
}
