public import Foundation
public import SagaCore
import SagaStorage

/// The Payments side of the stuck-saga sweeper (Docs/design.md, "Stuck sagas"): which sagas have waited too
/// long for Points' answer, re-announcing them through the outbox, and the counters that
/// stop the re-announcing and report the saga instead. The timer is `StuckSagaSweeper`.
extension PaymentsService {
  /// One sweep, in one transaction: every payment still `PAID` or `REWARD_FAILED` whose last
  /// change and last re-announcement are both older than `stuckAfter` is either
  /// re-announced (fewer than `maxRepublish` re-announcements so far) or, once, reported.
  ///
  /// A re-announcement is the same `ReservationCompleted` body under a new `eventId`, with
  /// the payment's traceparent and correlation id and header `sagad-republished: N`. Points
  /// answers a payment it already decided by re-publishing the recorded outcome, so a lost
  /// `PointRewardCompleted`, `PointRewardFailed` or `CompensatePayment` is sent again; one it
  /// never saw is decided now. Either way nothing is credited twice.
  /// A re-announcement keeps the original `eventId`, so a peer that deduplicates by event id
  /// drops it when it has the original. Toward a Points peer without idempotency
  /// (`peer: .spring`) nothing is re-announced: a second `ReservationCompleted` would be a
  /// second reward there. The saga is reported at once instead, with that reason.
  /// - Parameters:
  ///   - now: the sweep's time (tests pass their own clock's).
  ///   - peer: what runs Points (`peers.points`).
  ///   - limit: the most payments handled per call, to keep the transaction short.
  public func republishStuck(
    now: Date, stuckAfter: Duration, maxRepublish: Int, peer: PeerKind = .sagad, limit: Int = 500
  ) async throws(PaymentsError) -> StuckSweep {
    let cutoff = now.paymentsMilliseconds - Self.milliseconds(stuckAfter)
    let maxRepublish = peer.isIdempotent ? maxRepublish : 0
    return try await write { db in
      let due = try StuckSagaQueries.due(cutoff: cutoff, maxRepublish: maxRepublish, limit: limit, in: db)
      var sweep = StuckSweep(truncated: due.count >= limit)
      for var candidate in due {
        if candidate.saga.republishCount < maxRepublish {
          candidate.saga.republishCount += 1
          candidate.saga.lastRepublishedAt = now
          candidate.saga.reportedAt = nil
          try StuckSagaQueries.republish(candidate, maxRepublish: maxRepublish, at: now, in: db)
          sweep.republished.append(candidate.saga)
        } else {
          candidate.saga.reportedAt = now
          candidate.saga.reason =
            peer.isIdempotent
            ? "no outcome after \(candidate.saga.republishCount) re-announcements (sweeper.max_republish)"
            : "not re-announced: Points is a \(peer) peer without idempotency (peers.points), a second"
              + " ReservationCompleted would reward twice"
          try StuckSagaQueries.report(candidate.saga, at: now, in: db)
          sweep.reported.append(candidate.saga)
        }
      }
      return sweep
    }
  }

  /// The sagas the sweeper gave up on and reported, oldest payment first; with
  /// `includeRepublishing`, also those it is still re-announcing. A saga leaves the list as
  /// soon as it reaches a final state.
  public func stuckSagas(includeRepublishing: Bool = false) async throws(PaymentsError) -> [StuckSaga] {
    try await read { db in try StuckSagaQueries.fetchAll(includeRepublishing: includeRepublishing, in: db) }
  }

  /// How many sagas are reported stuck (`status`, metrics).
  public func stuckSagaCount() async throws(PaymentsError) -> Int {
    try await read { db in try StuckSagaQueries.reportedCount(in: db) }
  }

  /// Sagas without an outcome (`PAID`, `REWARD_FAILED`) whose last change is older than
  /// `olderThan` at `now`, oldest payment first, at most `limit`, with how many there are in
  /// all: `verify`'s warnings, whether or not the sweeper has re-announced them yet.
  public func unfinishedSagas(now: Date = Date(), olderThan: Duration, limit: Int = 100)
    async throws(PaymentsError) -> (sagas: [StuckSaga], total: Int)
  {
    let cutoff = now.paymentsMilliseconds - Self.milliseconds(olderThan)
    return try await read { db in
      try StuckSagaQueries.unfinished(cutoff: cutoff, limit: limit, in: db)
    }
  }

  static func milliseconds(_ duration: Duration) -> Int64 {
    let (seconds, attoseconds) = duration.components
    return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
  }
}
