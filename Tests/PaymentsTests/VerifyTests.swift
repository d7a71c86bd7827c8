import Foundation
import GRDB
import Payments
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

@Suite("Payments: verify", .postgresServer, .timeLimit(.minutes(2)))
struct VerifyTests {
  @Test(
    "verify is clean after every saga path and reports balances and refunds corrupted by hand",
    arguments: SQLEngine.allCases)
  func verify(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      // One saga of each ending: rewarded, refunded, parked, still paid.
      var sagas: [PayResult] = []
      for user in Int64(1)...4 {
        sagas.append(try await harness.paidSaga(userId: user, scheduleId: 10 + user))
      }
      let payments = sagas
      try await harness.handle(
        PaymentsSagaTrackerHandler(),
        inbound(
          PointRewardCompleted(
            pointId: 1, userId: 1, rewardedAmount: 5_000, reservationId: payments[0].reservationId,
            paymentId: payments[0].paymentId)))
      try await harness.handle(
        PaymentCompensationHandler(),
        inbound(CompensatePayment(paymentId: payments[1].paymentId, userId: 2, refundAmount: 50_000, reason: "x")))
      try await harness.handle(
        PaymentCompensationHandler(),
        inbound(CompensatePayment(paymentId: payments[2].paymentId, userId: 3, refundAmount: 1, reason: "x")))
      #expect(try await harness.service.verify() == [])

      _ = try await harness.database.write { db in
        try db.execute("UPDATE wallets SET balance = balance + 1 WHERE user_id = 1")
      }
      let violations = try await harness.service.verify()
      #expect(violations == ["user 1: balance 50001 KRW but ledger sums to 50000 KRW"])

      try await harness.database.write { db in
        try db.execute("UPDATE wallets SET balance = balance - 1 WHERE user_id = 1")
        try db.execute("UPDATE reservations SET status = 'RESERVED' WHERE id = ?", [payments[1].reservationId])
        try db.execute("DELETE FROM refunds WHERE payment_id = ?", [payments[1].paymentId])
      }
      let refundViolations = try await harness.service.verify()
      #expect(refundViolations.count == 2)
      #expect(refundViolations.contains { $0.contains("payment \(payments[1].paymentId) (REFUNDED): 0 refund rows") })
      #expect(refundViolations.contains { $0.contains("reservation \(payments[1].reservationId) is RESERVED") })
    }
  }
}
