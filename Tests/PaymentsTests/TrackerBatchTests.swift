import Foundation
import Payments
import SagaCore
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

/// The tracker inside one batch run without savepoints (one transaction, the batch's memory):
/// on PostgreSQL a record's read carries the writes held for earlier records only when none of
/// them was its payment's, so a second event of one payment still sees the first's outcome.
@Suite("Payments: the saga tracker within one batch", .postgresServer, .timeLimit(.minutes(2)))
struct TrackerBatchTests {
  @Test(
    "a payment's second event in the batch sees the first's REWARDED; another payment's is applied",
    arguments: SQLEngine.allCases)
  func secondEventSeesFirst(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let first = try await harness.paidSaga(userId: 1)
      let second = try await harness.paidSaga(userId: 2, scheduleId: 11)
      func completed(_ paid: PayResult, user: Int64, point: Int64) -> PointRewardCompleted {
        PointRewardCompleted(
          pointId: point, userId: user, rewardedAmount: 5_000, reservationId: paid.reservationId,
          paymentId: paid.paymentId)
      }
      let batch = [
        inbound(completed(first, user: 1, point: 77)), inbound(completed(first, user: 1, point: 78), offset: 1),
        inbound(completed(second, user: 2, point: 79), offset: 2),
      ]
      let memory = BatchMemory()
      let tracker = PaymentsSagaTrackerHandler()
      try await harness.database.write { db in
        for message in batch {
          try tracker.handle(
            message, context: MessageContext(envelope: message.envelope, service: .payments, batch: memory), in: db)
        }
      }
      #expect(try await harness.steps(first.paymentId) == [.paymentAccepted, .rewardCompleted, .lateEventIgnored])
      #expect(try await harness.steps(second.paymentId) == [.paymentAccepted, .rewardCompleted])
      #expect(try await harness.service.payment(id: first.paymentId)?.pointId == 77)
      #expect(try await harness.service.payment(id: second.paymentId)?.status == .rewarded)
    }
  }
}
