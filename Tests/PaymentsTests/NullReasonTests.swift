import Foundation
import GRDB
import Payments
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

/// A Java Points writes `"reason": null` for an exception without a message (Jackson's
/// rendering of a null `getMessage()`): the saga goes on, and the reason stays null in
/// the tables rather than becoming "null" or "".
@Suite("Payments: reason null from a Java peer", .postgresServer, .timeLimit(.minutes(2)))
struct NullReasonTests {
  /// A record as the report's Spring service sends it: its JSON, no key, no headers.
  private static func javaRecord(_ topic: SagaTopic, _ body: String, offset: Int64 = 0) -> InboundMessage {
    InboundMessage(
      topic: topic.rawValue, partition: 0, offset: offset, key: nil, value: Array(body.utf8), headers: [])
  }

  @Test(
    "PointRewardFailed and CompensatePayment with reason null: REWARD_FAILED, then REFUNDED, reason NULL",
    arguments: SQLEngine.allCases)
  func nullReasonThroughTheSaga(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let paid = try await harness.paidSaga()
      let failed = #"{"userId":1,"paymentId":\#(paid.paymentId),"reservationId":\#(paid.reservationId),"reason":null}"#
      try await harness.handle(PaymentsSagaTrackerHandler(), Self.javaRecord(.pointRewardFailed, failed))
      let rewardFailed = try #require(try await harness.service.payment(id: paid.paymentId))
      #expect(rewardFailed.status == .rewardFailed)
      #expect(rewardFailed.failureReason == nil)

      let compensate = #"{"paymentId":\#(paid.paymentId),"userId":1,"refundAmount":50000,"reason":null}"#
      try await harness.handle(PaymentCompensationHandler(), Self.javaRecord(.compensatePayment, compensate))
      let refunded = try #require(try await harness.service.payment(id: paid.paymentId))
      #expect(refunded.status == .refunded && refunded.refundedAmount == 50_000)
      #expect(refunded.failureReason == nil)
      #expect(try await harness.service.balance(userId: 1) == 100_000)

      // Stored as SQL NULL, not as the text "null" or "".
      #expect(try await harness.count("SELECT COUNT(*) FROM refunds WHERE reason IS NULL") == 1)
      #expect(
        try await harness.count("SELECT COUNT(*) FROM payments WHERE id = \(paid.paymentId) AND failure_reason IS NULL")
          == 1)

      let steps = try await harness.service.steps(paymentId: paid.paymentId)
      #expect(steps.map(\.step) == [.paymentAccepted, .rewardFailed, .compensationRefunded])
      #expect(steps[1].outcome == "REWARD_FAILED: " + SagaStep.noReason)
      #expect(steps[2].outcome.hasSuffix("; reason: " + SagaStep.noReason))
      #expect(try await harness.service.verify() == [])
    }
  }

  @Test(
    "a CompensatePayment of 0 (a Java peer's payment of 0) is parked as a mismatch, not dead-lettered",
    arguments: SQLEngine.allCases)
  func zeroRefundIsParked(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let paid = try await harness.paidSaga()
      let compensate = #"{"paymentId":\#(paid.paymentId),"userId":1,"refundAmount":0,"reason":null}"#
      try await harness.handle(PaymentCompensationHandler(), Self.javaRecord(.compensatePayment, compensate))
      #expect(try await harness.status(paid.paymentId) == .compensationFailed)
      let parked = try #require(try await harness.outbox(.compensationFailed).first)
      let event = try EventCodec.decode(CompensationFailed.self, from: parked.payload)
      #expect(event.refundAmount == 0 && event.reason?.hasPrefix("amount-mismatch: ") == true)
      #expect(try await harness.service.balance(userId: 1) == 50_000)
    }
  }

  @Test("the refunds table of an older database takes NULL reasons after the upgrade and keeps its rows")
  func upgradeMakesRefundReasonNullable() async throws {
    // The Payments schema as it was before reasons could be null, with one refund.
    let old = try DatabaseQueue()
    try PaymentsDatabase.migrator.migrate(old, upTo: "payments-v2-recovery")
    try await old.write { db in
      try db.execute(
        """
        INSERT INTO users (id, created_at) VALUES (1, 0);
        INSERT INTO reservations (id, user_id, schedule_id, seat, status, created_at, updated_at)
          VALUES (7, 1, 10, 'A-1', 'CANCELLED', 0, 0);
        INSERT INTO payments (id, user_id, reservation_id, schedule_id, amount, status, trace_id, correlation_id,
                              created_at, updated_at)
          VALUES (3, 1, 7, 10, 500, 'REFUNDED', 't', 'c', 0, 0);
        INSERT INTO refunds (id, payment_id, amount, reason, created_at) VALUES (5, 3, 500, 'no account', 9);
        """)
      #expect(throws: DatabaseError.self) {
        try db.execute("UPDATE refunds SET reason = NULL WHERE id = 5")
      }
    }

    let upgraded = try PaymentsDatabase(old).storage
    try await upgraded.write { db in
      let row = try #require(
        try db.query("SELECT id, payment_id, amount, reason, created_at FROM refunds").first)
      #expect(row["id"] == 5 as Int64 && row["payment_id"] == 3 as Int64 && row["amount"] == 500 as Int64)
      #expect(row["reason"] == "no account" && row["created_at"] == 9 as Int64)
      try db.execute("UPDATE refunds SET reason = NULL WHERE id = 5")
      // Still one refund per payment, of a positive amount.
      #expect(throws: DatabaseError.self) {
        try db.execute("INSERT INTO refunds (payment_id, amount, reason, created_at) VALUES (3, 500, NULL, 10)")
      }
      #expect(throws: DatabaseError.self) {
        try db.execute("INSERT INTO refunds (payment_id, amount, reason, created_at) VALUES (4, 0, NULL, 10)")
      }
    }
  }
}
