import Foundation
import Points
import SagaCore
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

/// Rewards inside one batch run without savepoints (one transaction, the batch's memory): on
/// PostgreSQL a record's decision carries the writes held for earlier records only when none
/// of them was its user's, so a user's second record decides on the first one's outcome.
@Suite("Points: rewards within one batch", .postgresServer, .timeLimit(.minutes(2)))
struct RewardBatchTests {
  @Test(
    "a second copy of a reward in the batch is a duplicate; a user's second reward sees the first's balance",
    arguments: SQLEngine.allCases)
  func laterRecordsSeeEarlier(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      for user: Int64 in [7, 8, 9] { try await points.service.enroll(userId: user) }
      // Room for one reward of 100 only.
      try await points.database.write { db in
        _ = try db.execute("UPDATE point_accounts SET balance = ? WHERE user_id = 8", [Int64.max - 150])
      }
      let reward = reservationCompleted(paidAmount: 1_000, userId: 7, paymentId: 100)
      let batch = [
        message(reward), message(reward, offset: 1),
        message(reservationCompleted(paidAmount: 1_000, userId: 8, paymentId: 200), offset: 2),
        message(reservationCompleted(paidAmount: 1_000, userId: 8, paymentId: 201), offset: 3),
        message(reservationCompleted(paidAmount: 1_000, userId: 9, paymentId: 300), offset: 4),
      ]
      let memory = BatchMemory()
      let handler = ReservationCompletedHandler()
      let outcomes = try await points.database.write { db in
        try batch.map { message in
          try handler.process(
            message,
            context: MessageContext(envelope: message.envelope, service: .points, now: referenceDate, batch: memory),
            in: db)
        }
      }
      #expect(outcomes.map(\.result) == ["rewarded", "duplicate", "rewarded", "failed", "rewarded"])
      #expect(try await points.service.balance(userId: 7) == 100)
      #expect(try await points.service.balance(userId: 8) == Int64.max - 50)
      #expect(try await points.count("point_ledger") == 3)
      #expect(try await points.count("reward_failures") == 1)
      let failure = try #require(try await points.service.rewardFailure(userId: 8, paymentId: 201))
      #expect(failure.reasonCode == .pointBalanceOverflow, "decided on the balance after payment 200's reward")
    }
  }
}
