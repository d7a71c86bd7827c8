import Foundation
import Points
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

/// The report's Spring Payments sends `paidAmount` as a Java `Long`, and 0 is a value it
/// can send: under the report's rule it earns 0 points, a reward like any other.
@Suite("Points: a payment of 0 from a Java peer", .postgresServer, .timeLimit(.minutes(2)))
struct ZeroPaymentTests {
  @Test(
    "paidAmount 0 in the report's format: reward 0 recorded, PointRewardCompleted of 0 announced",
    arguments: SQLEngine.allCases)
  func zeroIsRewardedWithZero(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      let recorder = OutcomeRecorder()
      let body = #"{"paymentId":100,"userId":7,"reservationId":500,"paidAmount":0}"#
      try await points.handle(rawMessage(body), with: recorder.handler())

      #expect(recorder.counts == ["rewarded": 1])
      let reward = try #require(try await points.service.reward(userId: userId, paymentId: paymentId))
      #expect(reward.amount == 0 && reward.paidAmount == 0)
      #expect(try await points.service.balance(userId: userId) == 0)
      #expect(try await points.count("reward_failures") == 0)
      let rows = try await points.outbox()
      #expect(rows.map(\.topic) == ["point-reward-completed"])
      let event = try EventCodec.decode(PointRewardCompleted.self, from: try #require(rows.first).payload)
      #expect(event.rewardedAmount == 0 && event.paymentId == paymentId)

      // The same record again is a duplicate: the recorded reward is announced again.
      try await points.handle(rawMessage(body, offset: 1), with: recorder.handler())
      #expect(recorder.counts == ["rewarded": 1, "duplicate": 1])
      #expect(try await points.count("point_ledger") == 1)
      #expect(try await points.service.verify() == [])
    }
  }

  @Test("paidAmount 0 for a user without an account fails and asks for a refund of 0", arguments: SQLEngine.allCases)
  func zeroForUnenrolledUser(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      let body = #"{"paymentId":100,"userId":7,"reservationId":500,"paidAmount":0}"#
      try await points.handle(rawMessage(body))
      let rows = try await points.outbox()
      #expect(rows.map(\.topic) == ["point-reward-failed", "compensate-payment"])
      let compensate = try EventCodec.decode(CompensatePayment.self, from: rows[1].payload)
      #expect(compensate.refundAmount == 0)
    }
  }

  @Test("a negative paidAmount is still refused, with nothing written", arguments: SQLEngine.allCases)
  func negativeIsRefused(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      let before = try await points.snapshot()
      await #expect(throws: SagaError.self) {
        try await points.handle(rawMessage(#"{"paymentId":100,"userId":7,"reservationId":500,"paidAmount":-1}"#))
      }
      #expect(try await points.snapshot() == before)
    }
  }
}
