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
    arguments: SQLEngine.allCases, [false, true])
  func secondEventSeesFirst(engine: SQLEngine, prefetching: Bool) async throws {
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
      let tracker = PaymentsSagaTrackerHandler()
      try await harness.database.write { db in
        // Prefetched, a payment's first record decides from a read made before any record ran.
        let memory = BatchMemory(prefetched: prefetching ? try tracker.prefetch(batch, in: db) : nil)
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

  @Test("on PostgreSQL a batch's payments are read in one statement: its waits do not grow with it")
  func prefetchedPayments() async throws {
    try await PaymentsHarness.run(on: .postgres) { harness in
      var paid: [PayResult] = []
      for user in Int64(1)...40 { paid.append(try await harness.paidSaga(userId: user, scheduleId: 100 + user)) }
      let tracker = PaymentsSagaTrackerHandler()
      var waits: [Int] = []
      // Two batches: the first also prepares the statements on the connection.
      for range in [0..<20, 20..<40] {
        let batch = range.map { index in
          inbound(
            PointRewardCompleted(
              pointId: paid[index].paymentId, userId: Int64(index + 1), rewardedAmount: 1_000,
              reservationId: paid[index].reservationId, paymentId: paid[index].paymentId),
            offset: Int64(index))
        }
        waits.append(
          try await harness.database.write { db in
            let connection = try #require(db as? PostgresSQLConnection)
            let start = connection.roundTrips
            let memory = BatchMemory(prefetched: try tracker.prefetch(batch, in: db))
            for message in batch {
              try tracker.handle(
                message, context: MessageContext(envelope: message.envelope, service: .payments, batch: memory),
                in: db)
            }
            return connection.roundTrips - start
          })
      }
      // The payments' read (the BEGIN with it); the records' writes follow each other unanswered.
      #expect(waits.last == 1, "one wait per record would be 20: \(waits)")
      for payment in paid { #expect(try await harness.service.payment(id: payment.paymentId)?.status == .rewarded) }
      #expect(try await harness.service.verify() == [])
    }
  }

  /// A batch written as one statement takes no lock: a payment may move between the batch's
  /// read and its write. Its reward is written only over `PAID` (`PaymentView.setRewarded`), so
  /// the status's `CHECK` refuses the statement, and nothing of the batch is written.
  @Test("on PostgreSQL a reward written as one statement is refused when its payment moved since the batch's read")
  func staleStatusRefused() async throws {
    try await PaymentsHarness.run(on: .postgres) { harness in
      let paid = [try await harness.paidSaga(userId: 1), try await harness.paidSaga(userId: 2, scheduleId: 11)]
      let batch = paid.enumerated().map { index, payment in
        inbound(
          PointRewardCompleted(
            pointId: 70 + Int64(index), userId: Int64(index + 1), rewardedAmount: 5_000,
            reservationId: payment.reservationId, paymentId: payment.paymentId),
          offset: Int64(index))
      }
      let tracker = PaymentsSagaTrackerHandler()
      #expect(tracker.writesInOneStatement(batch))
      #expect(!tracker.writesInOneStatement(batch + [batch[0]]), "a payment's second event reads after the first's")
      let database = harness.database
      let moved = paid[0].paymentId
      let refusal = await #expect(throws: StorageError.self) {
        try await database.writeInOneStatement { db in
          let memory = BatchMemory(prefetched: try tracker.prefetch(batch, in: db))
          // Another transaction moves the first payment after the batch's read.
          let done = DispatchSemaphore(value: 0)
          Task {
            _ = try? await database.write { other in
              try other.execute("UPDATE payments SET status = 'REWARD_FAILED' WHERE id = ?", [moved])
            }
            done.signal()
          }
          done.wait()
          for message in batch {
            try tracker.handle(
              message, context: MessageContext(envelope: message.envelope, service: .payments, batch: memory), in: db)
          }
        }
      }
      #expect(refusal?.sqlState == "23514", "the status's CHECK: \(String(describing: refusal))")
      #expect(try await harness.service.payment(id: paid[1].paymentId)?.status == .paid, "nothing of the batch written")
      // As a transaction (the worker's next step), the moved payment's reward is a late event.
      try await database.write { db in
        let memory = BatchMemory(prefetched: try tracker.prefetch(batch, in: db))
        for message in batch {
          try tracker.handle(
            message, context: MessageContext(envelope: message.envelope, service: .payments, batch: memory), in: db)
        }
      }
      #expect(try await harness.service.payment(id: moved)?.status == .rewardFailed)
      #expect(try await harness.steps(moved) == [.paymentAccepted, .lateEventIgnored])
      #expect(try await harness.service.payment(id: paid[1].paymentId)?.status == .rewarded)
    }
  }
}
