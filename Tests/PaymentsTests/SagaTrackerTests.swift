import Foundation
import Payments
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

@Suite("Payments: saga tracker", .postgresServer, .timeLimit(.minutes(2)))
struct SagaTrackerTests {
  let tracker = PaymentsSagaTrackerHandler()

  @Test(
    "point-reward-completed moves PAID to REWARDED with the reward amount and point id", arguments: SQLEngine.allCases)
  func completed(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let paid = try await harness.paidSaga()
      #expect(tracker.consumerGroup == .paymentsSagaTracker)
      try await harness.handle(
        tracker,
        inbound(
          PointRewardCompleted(
            pointId: 77, userId: 1, rewardedAmount: 5_000, reservationId: paid.reservationId,
            paymentId: paid.paymentId), offset: 3))
      let payment = try #require(try await harness.service.payment(id: paid.paymentId))
      #expect(payment.status == .rewarded && payment.rewardAmount == 5_000 && payment.pointId == 77)
      let steps = try await harness.service.steps(paymentId: paid.paymentId)
      #expect(steps.map(\.step) == [.paymentAccepted, .rewardCompleted])
      #expect(steps.last?.topic == "point-reward-completed" && steps.last?.offset == 3)
      #expect(steps.last?.eventId != nil)
      #expect(try await harness.service.verify() == [])
    }
  }

  @Test(
    "a report-format PointRewardCompleted (no paymentId, no headers) is correlated by reservationId",
    arguments: SQLEngine.allCases)
  func completedWithoutPaymentId(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      _ = try await harness.paidSaga(userId: 1, scheduleId: 10)
      let second = try await harness.paidSaga(userId: 2, scheduleId: 11)
      let body = #"{"pointId":9,"userId":2,"rewardedAmount":5000,"reservationId":\#(second.reservationId)}"#
      let message = InboundMessage(
        topic: "point-reward-completed", partition: 1, offset: 0, key: nil, value: Array(body.utf8), headers: [])
      try await harness.handle(tracker, message)
      #expect(try await harness.status(second.paymentId) == .rewarded)
      #expect(try await harness.service.payment(id: second.paymentId)?.rewardAmount == 5_000)
      #expect(try await harness.status(1) == .paid)
    }
  }

  @Test("point-reward-failed moves PAID to REWARD_FAILED with the reason", arguments: SQLEngine.allCases)
  func failed(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let paid = try await harness.paidSaga()
      try await harness.handle(
        tracker,
        inbound(
          PointRewardFailed(
            userId: 1, paymentId: paid.paymentId, reservationId: paid.reservationId,
            reason: "user-not-enrolled: user 1 has no point account")))
      let payment = try #require(try await harness.service.payment(id: paid.paymentId))
      #expect(payment.status == .rewardFailed)
      #expect(payment.failureReason == "user-not-enrolled: user 1 has no point account")
      #expect(payment.reservationStatus == .reserved)
      #expect(try await harness.steps(paid.paymentId) == [.paymentAccepted, .rewardFailed])
      // The refund is the compensation's job, not the failure event's.
      #expect(try await harness.service.balance(userId: 1) == 50_000)
    }
  }

  @Test("a terminal payment is never moved: late events add an ignored step only", arguments: SQLEngine.allCases)
  func lateEventsIgnored(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let paid = try await harness.paidSaga()
      let completed = PointRewardCompleted(
        pointId: 77, userId: 1, rewardedAmount: 5_000, reservationId: paid.reservationId, paymentId: paid.paymentId)
      try await harness.handle(tracker, inbound(completed))
      // A redelivery under a new event id (a re-announced outcome), then a contradicting failure.
      try await harness.handle(tracker, inbound(completed, offset: 1))
      try await harness.handle(
        tracker,
        inbound(
          PointRewardFailed(userId: 1, paymentId: paid.paymentId, reservationId: paid.reservationId, reason: "late")))
      let payment = try #require(try await harness.service.payment(id: paid.paymentId))
      #expect(payment.status == .rewarded && payment.rewardAmount == 5_000 && payment.failureReason == nil)
      let steps = try await harness.service.steps(paymentId: paid.paymentId)
      #expect(steps.map(\.step) == [.paymentAccepted, .rewardCompleted, .lateEventIgnored, .lateEventIgnored])
      #expect(steps.last?.outcome.hasPrefix("ignored (state REWARDED)") == true)
    }
  }

  @Test("a late point-reward-completed after REFUNDED changes nothing", arguments: SQLEngine.allCases)
  func completedAfterRefund(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let paid = try await harness.paidSaga()
      try await harness.handle(
        PaymentCompensationHandler(),
        inbound(CompensatePayment(paymentId: paid.paymentId, userId: 1, refundAmount: 50_000, reason: "test")))
      try await harness.handle(
        tracker,
        inbound(
          PointRewardCompleted(
            pointId: 5, userId: 1, rewardedAmount: 5_000, reservationId: paid.reservationId,
            paymentId: paid.paymentId)))
      let payment = try #require(try await harness.service.payment(id: paid.paymentId))
      #expect(payment.status == .refunded && payment.rewardAmount == nil && payment.pointId == nil)
      #expect(payment.reservationStatus == .cancelled)
      let steps = try await harness.service.steps(paymentId: paid.paymentId)
      #expect(steps.map(\.step) == [.paymentAccepted, .compensationRefunded, .lateEventIgnored])
      #expect(steps.last?.outcome.hasPrefix("ignored (state REFUNDED)") == true)
      #expect(try await harness.service.balance(userId: 1) == 100_000)
      #expect(try await harness.service.verify() == [])
    }
  }

  @Test(
    "unknown payments, mismatched ids and bad bodies are permanent errors that change nothing",
    arguments: SQLEngine.allCases)
  func permanentErrors(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let paid = try await harness.paidSaga()
      let cases: [(InboundMessage, SagaError.Code)] = [
        (
          inbound(PointRewardCompleted(pointId: 1, userId: 1, rewardedAmount: 0, reservationId: 999, paymentId: nil)),
          .unknownPayment
        ),
        (
          inbound(PointRewardFailed(userId: 1, paymentId: 999, reservationId: paid.reservationId, reason: "x")),
          .unknownPayment
        ),
        (
          inbound(
            PointRewardFailed(userId: 2, paymentId: paid.paymentId, reservationId: paid.reservationId, reason: "x")),
          .invalidValue
        ),
        (
          InboundMessage(
            topic: "point-reward-failed", partition: 0, offset: 9, key: nil, value: Array("not json".utf8),
            headers: []),
          .invalidJSON
        ),
        (
          InboundMessage(
            topic: "point-reward-completed", partition: 0, offset: 10, key: nil,
            value: Array(#"{"pointId":1,"userId":1,"rewardedAmount":-5,"reservationId":1}"#.utf8), headers: []),
          .invalidValue
        ),
      ]
      for (message, code) in cases {
        let error = await #expect(throws: SagaError.self) { try await harness.handle(tracker, message) }
        #expect(error?.code == code && error?.failureClass == .permanent, "\(message.coordinates)")
      }
      #expect(try await harness.status(paid.paymentId) == .paid)
      #expect(try await harness.steps(paid.paymentId) == [.paymentAccepted])
    }
  }
}
