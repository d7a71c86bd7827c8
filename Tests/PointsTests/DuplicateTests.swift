import Foundation
import Points
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

@Suite("Duplicates re-announce the recorded outcome", .postgresServer, .timeLimit(.minutes(2)))
struct DuplicateTests {
  @Test(
    "the same message twice: one credit, the same PointRewardCompleted announced twice", arguments: SQLEngine.allCases)
  func sameMessageTwice(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      let recorder = OutcomeRecorder()
      let incoming = paymentsEnvelope()
      let record = message(reservationCompleted(paidAmount: 50_000), envelope: incoming)
      try await points.handle(record, with: recorder.handler())
      let afterFirst = try await points.snapshot(["point_accounts", "point_ledger", "reward_failures"])
      try await points.handle(record, with: recorder.handler())

      #expect(recorder.counts == ["rewarded": 1, "duplicate": 1])
      #expect(try await points.service.balance(userId: userId) == 5_000)
      #expect(try await points.count("point_ledger") == 1)
      let afterSecond = try await points.snapshot(["point_accounts", "point_ledger", "reward_failures"])
      #expect(afterSecond == afterFirst)

      let rows = try await points.outbox()
      #expect(rows.map(\.topic) == ["point-reward-completed", "point-reward-completed"])
      try #require(rows.count == 2)
      #expect(rows[0].payload == rows[1].payload, "the recorded outcome, byte for byte")
      #expect(rows[0].envelope.eventId != rows[1].envelope.eventId)
      expectContinues(rows[1], incoming, as: .pointRewardCompleted)
    }
  }

  @Test(
    "a re-announced event (new eventId, other trace, other values) re-announces the recorded values",
    arguments: SQLEngine.allCases)
  func reannouncedWithNewEventId(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      try await points.handle(message(reservationCompleted(paidAmount: 50_000)))
      let original = try #require(try await points.service.reward(userId: userId, paymentId: paymentId))

      // As the sweeper re-announces a stuck saga: a new event id, header sagad-republished.
      var again = paymentsEnvelope()
      again.extraHeaders = [RecordHeader(name: HeaderName.republished, value: "1")]
      let disagreeing = reservationCompleted(paidAmount: 70_000, reservationId: 501)
      try await points.handle(message(disagreeing, envelope: again, offset: 1))

      #expect(try await points.service.balance(userId: userId) == 5_000)
      #expect(try await points.service.reward(userId: userId, paymentId: paymentId) == original)
      let rows = try await points.outbox()
      try #require(rows.count == 2)
      #expect(try EventCodec.decode(PointRewardCompleted.self, from: rows[1].payload) == original.event)
      #expect(original.event.rewardedAmount == 5_000 && original.event.reservationId == reservationId)
      expectContinues(rows[1], again, as: .pointRewardCompleted)
    }
  }

  @Test(
    "a duplicate of a failure re-announces both events and still does not reward after a late enrolment",
    arguments: SQLEngine.allCases)
  func duplicateOfFailure(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      let recorder = OutcomeRecorder()
      try await points.handle(message(reservationCompleted(paidAmount: 50_000)), with: recorder.handler())
      // Enrolling later changes nothing for this payment: the decision was made and
      // Payments may already have refunded it.
      try await points.service.enroll(userId: userId)
      try await points.handle(message(reservationCompleted(paidAmount: 50_000)), with: recorder.handler())

      #expect(recorder.counts == ["failed": 1, "duplicate": 1])
      #expect(try await points.count("reward_failures") == 1)
      #expect(try await points.count("point_ledger") == 0)
      #expect(try await points.service.balance(userId: userId) == 0)
      let rows = try await points.outbox()
      #expect(
        rows.map(\.topic) == ["point-reward-failed", "compensate-payment", "point-reward-failed", "compensate-payment"])
      try #require(rows.count == 4)
      #expect(rows[0].payload == rows[2].payload && rows[1].payload == rows[3].payload)
      #expect(try await points.service.verify() == [])
    }
  }

  @Test(
    "beside a Payments peer without idempotency a duplicate failure sends PointRewardFailed only",
    arguments: SQLEngine.allCases)
  func duplicateFailureTowardSpringPayments(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      let handler = ReservationCompletedHandler(paymentsPeer: .spring)
      try await points.handle(message(reservationCompleted(paidAmount: 50_000)), with: handler)
      try await points.handle(message(reservationCompleted(paidAmount: 50_000), offset: 1), with: handler)
      let rows = try await points.outbox()
      // A second CompensatePayment would be a second refund on the report's Payments.
      #expect(rows.map(\.topic) == ["point-reward-failed", "compensate-payment", "point-reward-failed"])
      #expect(try await points.count("reward_failures") == 1)
    }
  }

  @Test("the same payment for another user is a different reward", arguments: SQLEngine.allCases)
  func businessKeyIsUserAndPayment(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      try await points.service.enroll(userId: 8)
      try await points.handle(message(reservationCompleted(paidAmount: 50_000)))
      try await points.handle(message(reservationCompleted(paidAmount: 50_000, userId: 8)))
      #expect(try await points.service.balance(userId: userId) == 5_000)
      #expect(try await points.service.balance(userId: 8) == 5_000)
    }
  }
}
