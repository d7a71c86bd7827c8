import Foundation
import GRDB
import Points
import SagaCore
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

@Suite("When the loop dead-letters a ReservationCompleted", .postgresServer, .timeLimit(.minutes(2)))
struct DeadLetteredTests {
  private static let busy = SagaError(.databaseBusy, "database is locked", failureClass: .transient)

  private func deadLettered(
    _ message: InboundMessage, error: SagaError = busy, attempts: Int = 3, in points: PointsFixture,
    handler: ReservationCompletedHandler = .init()
  ) async throws {
    try await points.database.write { db in
      try handler.deadLettered(
        message, error: error, attempts: attempts,
        context: MessageContext(envelope: message.envelope, service: .points, now: referenceDate), in: db)
    }
  }

  @Test(
    "retries ran out on a valid event: the reward fails with the error, PointRewardFailed and CompensatePayment",
    arguments: SQLEngine.allCases)
  func exhaustedValidEvent(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      let recorder = OutcomeRecorder()
      try await deadLettered(
        message(reservationCompleted(paidAmount: 50_000)), in: points, handler: recorder.handler())
      let failure = try #require(try await points.service.rewardFailure(userId: userId, paymentId: paymentId))
      #expect(failure.reasonCode == .databaseBusy)
      #expect(failure.reason == "database is locked (gave up after 3 attempts)")
      #expect(failure.paidAmount == 50_000)
      #expect(recorder.counts == ["failed": 1])
      #expect(try await points.count("point_ledger") == 0)
      #expect(try await points.service.balance(userId: userId) == 0)
      let rows = try await points.outbox()
      #expect(rows.map(\.topic) == ["point-reward-failed", "compensate-payment"])
      try #require(rows.count == 2)
      let compensation = try EventCodec.decode(CompensatePayment.self, from: rows[1].payload)
      #expect(compensation.refundAmount == 50_000 && compensation.paymentId == paymentId)
      let failed = try EventCodec.decode(PointRewardFailed.self, from: rows[0].payload)
      #expect(failed.reason == "database-busy: database is locked (gave up after 3 attempts)")
      // `sagactl saga` shows the decision on the dead-lettered record and the two events.
      let steps = try await points.service.steps(paymentId: paymentId)
      #expect(steps.map(\.step) == [.failureRecorded, .published, .published])
      #expect(steps.first?.topic == "reservation-completed")
      #expect(steps.first?.outcome.contains("gave up after 3 attempts") == true)
      #expect(steps.dropFirst().map(\.topic) == ["point-reward-failed", "compensate-payment"])
      // Each published step names its event by the outbox row's event_id column.
      let published = rows.map { $0.headers.last(named: HeaderName.eventId)?.text }
      #expect(published.allSatisfy { $0 != nil } && steps.dropFirst().map(\.eventId) == published)
    }
  }

  @Test(
    "a permanent failure (an invalid body or a valid one) adds nothing: the dead letter is all",
    arguments: SQLEngine.allCases)
  func permanentDoesNothing(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      let before = try await points.snapshot()
      try await deadLettered(
        rawMessage("not json"), error: SagaError(.invalidJSON, "not JSON"), attempts: 1, in: points)
      try await deadLettered(
        message(reservationCompleted(paidAmount: 100)), error: SagaError(.injectedPermanent, "failpoint"),
        attempts: 1, in: points)
      #expect(try await points.snapshot() == before)
    }
  }

  @Test("an exhausted transient failure of a body that does not decode adds nothing", arguments: SQLEngine.allCases)
  func undecodableDoesNothing(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      let before = try await points.snapshot()
      try await deadLettered(rawMessage(#"{"paymentId":1}"#), in: points)
      #expect(try await points.snapshot() == before)
    }
  }

  @Test(
    "an outcome already recorded stands: nothing is failed or compensated a second time", arguments: SQLEngine.allCases)
  func decidedAlready(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      try await points.handle(message(reservationCompleted(paidAmount: 10_000)))
      let before = try await points.snapshot()
      try await deadLettered(message(reservationCompleted(paidAmount: 10_000)), in: points)
      #expect(try await points.snapshot() == before)
      #expect(try await points.service.rewardFailure(userId: userId, paymentId: paymentId) == nil)
    }
  }
}
