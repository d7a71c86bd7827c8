import Foundation
import GRDB
import Payments
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

/// The Payments side of the stuck-saga sweeper, with the sweep's time passed in: which
/// sagas are due, what a re-announcement looks like, and the limit.
@Suite("Payments: stuck sagas re-announced, then reported", .postgresServer, .timeLimit(.minutes(2)))
struct StuckSagaTests {
  private let stuckAfter: Duration = .seconds(60)

  private func reservationCompleted(_ harness: PaymentsHarness) async throws -> [OutboxRecord] {
    try await harness.outbox(.reservationCompleted)
  }

  private func header(_ record: OutboxRecord, _ name: String) -> String? {
    record.headers.first { $0.name == name }?.text
  }

  @Test(
    "a PAID saga is re-announced after stuck_after: same body, trace, correlation and eventId, N counted",
    arguments: SQLEngine.allCases)
  func reannounced(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let paid = try await harness.paidSaga()
      let created = try #require(try await harness.service.payment(id: paid.paymentId)).updatedAt

      let early = try await harness.service.republishStuck(
        now: created.addingTimeInterval(59), stuckAfter: stuckAfter, maxRepublish: 3)
      #expect(early.republished.isEmpty && early.reported.isEmpty)

      let sweep = try await harness.service.republishStuck(
        now: created.addingTimeInterval(61), stuckAfter: stuckAfter, maxRepublish: 3)
      #expect(sweep.republished.map(\.paymentId) == [paid.paymentId])
      #expect(sweep.republished.first?.republishCount == 1)
      let rows = try await reservationCompleted(harness)
      try #require(rows.count == 2)
      #expect(rows[1].payload == rows[0].payload, "the same ReservationCompleted body")
      #expect(rows[1].key == rows[0].key)
      #expect(header(rows[1], HeaderName.republished) == "1")
      #expect(header(rows[0], HeaderName.republished) == nil)
      // The original event id: a peer that deduplicates by event id drops the copy if it has the original.
      #expect(header(rows[1], HeaderName.eventId) == header(rows[0], HeaderName.eventId))
      #expect(header(rows[1], HeaderName.traceparent) == header(rows[0], HeaderName.traceparent))
      #expect(header(rows[1], HeaderName.correlationId) == paid.correlationId)
      #expect(header(rows[1], HeaderName.eventType) == "ReservationCompleted")

      // Counted from the re-announcement: not again until stuck_after has passed once more.
      let soon = try await harness.service.republishStuck(
        now: created.addingTimeInterval(100), stuckAfter: stuckAfter, maxRepublish: 3)
      #expect(soon.republished.isEmpty)
      let next = try await harness.service.republishStuck(
        now: created.addingTimeInterval(122), stuckAfter: stuckAfter, maxRepublish: 3)
      #expect(next.republished.first?.republishCount == 2)
      #expect(try await reservationCompleted(harness).last.map { header($0, HeaderName.republished) } == "2")
      #expect(try await harness.steps(paid.paymentId) == [.paymentAccepted, .republished, .republished])
      #expect(try await harness.service.stuckSagas().isEmpty, "not over the limit yet")
      #expect(try await harness.service.stuckSagas(includeRepublishing: true).map(\.republishCount) == [2])
    }
  }

  @Test(
    "after max_republish the saga is reported once, listed, and never re-announced again", arguments: SQLEngine.allCases
  )
  func reportedAtTheLimit(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let paid = try await harness.paidSaga()
      let start = try #require(try await harness.service.payment(id: paid.paymentId)).updatedAt
      var reports = 0
      for minute in 1...8 {
        let sweep = try await harness.service.republishStuck(
          now: start.addingTimeInterval(Double(minute) * 61), stuckAfter: stuckAfter, maxRepublish: 3)
        reports += sweep.reported.count
      }
      #expect(reports == 1)
      #expect(try await reservationCompleted(harness).count == 1 + 3)
      let stuck = try await harness.service.stuckSagas()
      try #require(stuck.count == 1)
      #expect(stuck[0].paymentId == paid.paymentId && stuck[0].republishCount == 3 && stuck[0].isOverLimit)
      #expect(stuck[0].status == .paid)
      #expect(try await harness.service.stuckSagaCount() == 1)
      #expect(
        try await harness.steps(paid.paymentId) == [
          .paymentAccepted, .republished, .republished, .republished, .stuckReported,
        ])

      // Once the saga ends (here: the late reward arrives), it is no longer stuck.
      try await harness.handle(
        PaymentsSagaTrackerHandler(),
        inbound(
          PointRewardCompleted(
            pointId: 1, userId: 1, rewardedAmount: 5_000, reservationId: paid.reservationId,
            paymentId: paid.paymentId)))
      #expect(try await harness.service.stuckSagas().isEmpty)
      #expect(try await harness.service.stuckSagaCount() == 0)
    }
  }

  @Test(
    "REWARD_FAILED waits for its compensation and is swept too; final states are not", arguments: SQLEngine.allCases)
  func whichStatesAreSwept(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let failed = try await harness.paidSaga(userId: 1, scheduleId: 10)
      let rewarded = try await harness.paidSaga(userId: 2, scheduleId: 11)
      try await harness.handle(
        PaymentsSagaTrackerHandler(),
        inbound(
          PointRewardFailed(userId: 1, paymentId: failed.paymentId, reservationId: failed.reservationId, reason: "x")))
      try await harness.handle(
        PaymentsSagaTrackerHandler(),
        inbound(
          PointRewardCompleted(
            pointId: 1, userId: 2, rewardedAmount: 5_000, reservationId: rewarded.reservationId,
            paymentId: rewarded.paymentId)))
      let sweep = try await harness.service.republishStuck(
        now: Date().addingTimeInterval(3_600), stuckAfter: stuckAfter, maxRepublish: 5)
      #expect(sweep.republished.map(\.paymentId) == [failed.paymentId])
      #expect(sweep.republished.first?.status == .rewardFailed)
    }
  }

  @Test(
    "beside a Points peer without idempotency nothing is re-announced: reported at once with the reason",
    arguments: SQLEngine.allCases)
  func springPeerIsNeverReannouncedTo(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let paid = try await harness.paidSaga()
      let created = try #require(try await harness.service.payment(id: paid.paymentId)).updatedAt
      var reported: [StuckSaga] = []
      for minute in 1...4 {
        let sweep = try await harness.service.republishStuck(
          now: created.addingTimeInterval(Double(minute) * 61), stuckAfter: stuckAfter, maxRepublish: 5,
          peer: .spring)
        #expect(sweep.republished.isEmpty)
        reported += sweep.reported
      }
      #expect(reported.map(\.paymentId) == [paid.paymentId], "reported once")
      #expect(try await reservationCompleted(harness).count == 1, "only the original ReservationCompleted")
      let stuck = try #require(try await harness.service.stuckSagas().first)
      #expect(stuck.republishCount == 0 && stuck.isOverLimit)
      #expect(stuck.reason?.contains("peers.points") == true, "\(String(describing: stuck.reason))")
      #expect(try await harness.steps(paid.paymentId) == [.paymentAccepted, .stuckReported])
    }
  }

  @Test(
    "max_republish 0 reports without re-announcing; a sweep over its row limit says so", arguments: SQLEngine.allCases)
  func zeroAndLimit(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let first = try await harness.paidSaga(userId: 1, scheduleId: 10)
      _ = try await harness.paidSaga(userId: 2, scheduleId: 11)
      let later = Date().addingTimeInterval(3_600)
      let sweep = try await harness.service.republishStuck(
        now: later, stuckAfter: stuckAfter, maxRepublish: 0, limit: 1)
      #expect(sweep.reported.map(\.paymentId) == [first.paymentId] && sweep.truncated)
      #expect(sweep.republished.isEmpty)
      let rest = try await harness.service.republishStuck(now: later, stuckAfter: stuckAfter, maxRepublish: 0)
      #expect(rest.reported.count == 1 && !rest.truncated)
      #expect(try await reservationCompleted(harness).count == 2, "only the two original announcements")
      #expect(try await harness.service.stuckSagas().count == 2)
    }
  }
}
