import Foundation
import GRDB
import Points
import SagaCore
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

@Suite("Failing a reward for good and compensating", .postgresServer, .timeLimit(.minutes(2)))
struct FailureTests {
  @Test(
    "an unenrolled user: one failure row, one PointRewardFailed and one CompensatePayment, no throw",
    arguments: SQLEngine.allCases)
  func unenrolledUser(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      // Another user's account must not be touched by the failure.
      try await points.service.enroll(userId: 8)
      let recorder = OutcomeRecorder()
      let incoming = paymentsEnvelope()
      try await points.handle(
        message(reservationCompleted(paidAmount: 50_000), envelope: incoming), with: recorder.handler())

      #expect(recorder.counts == ["failed": 1])
      let failure = try #require(try await points.service.rewardFailure(userId: userId, paymentId: paymentId))
      #expect(failure.reasonCode == .userNotEnrolled)
      #expect(failure.reason == "user 7 has no point account")
      #expect(failure.paidAmount == 50_000 && failure.reservationId == reservationId)
      #expect(failure.failedAt == referenceDate)
      #expect(try await points.count("reward_failures") == 1)
      #expect(try await points.count("point_ledger") == 0)
      #expect(try await points.service.isEnrolled(userId: userId) == false)
      #expect(try await points.service.balance(userId: 8) == 0)

      let rows = try await points.outbox()
      #expect(rows.map(\.topic) == ["point-reward-failed", "compensate-payment"])
      try #require(rows.count == 2)
      #expect(rows.allSatisfy { $0.key == String(paymentId) })
      #expect(
        try EventCodec.decode(PointRewardFailed.self, from: rows[0].payload)
          == PointRewardFailed(
            userId: userId, paymentId: paymentId, reservationId: reservationId,
            reason: "user-not-enrolled: user 7 has no point account"))
      let compensation = try EventCodec.decode(CompensatePayment.self, from: rows[1].payload)
      #expect(compensation.paymentId == paymentId && compensation.userId == userId)
      #expect(compensation.refundAmount == 50_000, "refund exactly what was paid")
      #expect(compensation.reason?.contains("user-not-enrolled") == true)
      #expect(try rows[0].fieldNames == EventType.pointRewardFailed.fieldNames.sorted())
      #expect(try rows[1].fieldNames == EventType.compensatePayment.fieldNames.sorted())
      expectContinues(rows[0], incoming, as: .pointRewardFailed)
      expectContinues(rows[1], incoming, as: .compensatePayment)
      #expect(try await points.service.verify() == [])
    }
  }

  @Test(
    "the failure and its events roll back with the transaction: nothing is decided twice or half",
    arguments: SQLEngine.allCases)
  func failureRollsBack(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      struct Abort: Error {}
      let incoming = message(reservationCompleted(paidAmount: 50_000))
      await #expect(throws: Abort.self) {
        try await points.database.write { db in
          try ReservationCompletedHandler().handle(
            incoming, context: MessageContext(envelope: incoming.envelope, service: .points), in: db)
          throw Abort()
        }
      }
      #expect(try await points.count("reward_failures") == 0)
      #expect(try await points.count("outbox") == 0)

      // The retry decides afresh, exactly once.
      try await points.handle(incoming)
      #expect(try await points.count("reward_failures") == 1)
      #expect(try await points.outbox().map(\.topic) == ["point-reward-failed", "compensate-payment"])
    }
  }

  @Test(
    "a reward that would overflow the balance fails and compensates instead of corrupting it",
    arguments: SQLEngine.allCases)
  func balanceOverflow(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      let nearlyFull = Int64.max - 50
      _ = try await points.database.write { db in
        try db.execute("UPDATE point_accounts SET balance = ? WHERE user_id = ?", [nearlyFull, userId])
      }
      let recorder = OutcomeRecorder()
      try await points.handle(message(reservationCompleted(paidAmount: 1_000)), with: recorder.handler())

      #expect(recorder.counts == ["failed": 1])
      #expect(try await points.service.balance(userId: userId) == nearlyFull)
      #expect(try await points.count("point_ledger") == 0)
      let failure = try #require(try await points.service.rewardFailure(userId: userId, paymentId: paymentId))
      #expect(failure.reasonCode == .pointBalanceOverflow)
      #expect(try await points.outbox().map(\.topic) == ["point-reward-failed", "compensate-payment"])
    }
  }
}
