import Foundation
import GRDB
import Payments
import SagaCore
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

/// Parked compensations and what an operator does with them: the `payments.refund`
/// failpoint, the dead-letter hook, `retryCompensation` and `resolveCompensation`.
@Suite("Payments: compensation failures and their recovery", .postgresServer, .timeLimit(.minutes(2)))
struct CompensationRecoveryTests {
  /// A payment of 50,000 whose reward failed, so a compensation for it is due.
  private func rewardFailed(_ harness: PaymentsHarness) async throws -> PayResult {
    let paid = try await harness.paidSaga()
    try await harness.handle(
      PaymentsSagaTrackerHandler(),
      inbound(PointRewardFailed(userId: 1, paymentId: paid.paymentId, reservationId: paid.reservationId, reason: "x")))
    return paid
  }

  private func compensation(_ paid: PayResult, amount: Int64 = 50_000) -> CompensatePayment {
    CompensatePayment(paymentId: paid.paymentId, userId: 1, refundAmount: amount, reason: "reward failed")
  }

  @Test(
    "refund failpoint permanent → parked with the reason, record, CompensationFailed; retry refunds exactly once",
    arguments: SQLEngine.allCases)
  func failpointParksThenRetryRefundsOnce(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let failpoints = Failpoints(enabled: true)
      let service = PaymentsService(database: harness.payments, failpoints: failpoints)
      let paid = try await rewardFailed(harness)
      try failpoints.set(.paymentsRefund, .errorPermanent)
      let recorder = OutcomeRecorder()
      try await harness.handle(
        PaymentCompensationHandler(failpoints: failpoints, metrics: recorder.metrics), inbound(compensation(paid)))

      let parked = try #require(try await service.payment(id: paid.paymentId))
      #expect(parked.status == .compensationFailed && parked.reservationStatus == .reserved)
      #expect(parked.failureReason?.hasPrefix("injected-permanent: ") == true)
      #expect(try await service.balance(userId: 1) == 50_000)
      #expect(try await harness.count("SELECT COUNT(*) FROM refunds") == 0)
      #expect(try await harness.count("SELECT COUNT(*) FROM wallet_ledger WHERE kind = 'refund'") == 0)
      let records = try await service.compensationFailures()
      try #require(records.count == 1)
      #expect(records[0].reasonCode == "injected-permanent" && records[0].status == "open")
      #expect(records[0].refundAmount == 50_000 && records[0].userId == 1)
      let events = try await harness.outbox(.compensationFailed)
      try #require(events.count == 1)
      #expect(try EventCodec.decode(CompensationFailed.self, from: events[0].payload).paymentId == paid.paymentId)
      #expect(recorder.counts == ["failed": 1])
      #expect(try await service.openCompensationCount() == 1)

      // Still armed: the retry says the cause holds, and nothing is refunded.
      let blocked = try await service.retryCompensation(paymentId: paid.paymentId, by: "alice")
      guard case .stillParked(_, let reason) = blocked else {
        Issue.record("expected stillParked, got \(blocked)")
        return
      }
      #expect(reason.hasPrefix("injected-permanent: "))
      #expect(try await harness.count("SELECT COUNT(*) FROM refunds") == 0)

      failpoints.clear(.paymentsRefund)
      let retried = try await service.retryCompensation(paymentId: paid.paymentId, by: "alice")
      #expect(retried == .refunded(paymentId: paid.paymentId, amount: 50_000, balance: 100_000))
      let again = try await service.retryCompensation(paymentId: paid.paymentId, by: "bob")
      #expect(again == .alreadyRefunded(paymentId: paid.paymentId, amount: 50_000))

      let payment = try #require(try await service.payment(id: paid.paymentId))
      #expect(payment.status == .refunded && payment.reservationStatus == .cancelled)
      #expect(payment.refundedAmount == 50_000)
      #expect(try await service.balance(userId: 1) == 100_000)
      #expect(try await harness.count("SELECT COUNT(*) FROM refunds") == 1)
      #expect(try await harness.count("SELECT COUNT(*) FROM wallet_ledger WHERE kind = 'refund'") == 1)
      #expect(try await service.compensationFailures().isEmpty)
      let closed = try #require(try await service.compensationFailures(unresolvedOnly: false).first)
      #expect(closed.status == "retried" && closed.resolvedBy == "alice" && closed.resolvedAt != nil)
      #expect(try await service.openCompensationCount() == 0)
      #expect(try await harness.outbox(.compensationFailed).count == 1, "CompensationFailed was written once")
      #expect(
        try await harness.steps(paid.paymentId) == [
          .paymentAccepted, .rewardFailed, .compensationFailed, .compensationFailed, .compensationRefunded,
        ])
      #expect(try await service.verify() == [])
    }
  }

  @Test(
    "a transient refund failure is thrown for the loop to retry, with nothing written", arguments: SQLEngine.allCases)
  func transientIsThrown(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let failpoints = Failpoints(enabled: true)
      let paid = try await rewardFailed(harness)
      try failpoints.set(.paymentsRefund, .errorTransient, trigger: .count(1))
      let handler = PaymentCompensationHandler(failpoints: failpoints)
      let error = await #expect(throws: SagaError.self) {
        try await harness.handle(handler, inbound(compensation(paid)))
      }
      #expect(error?.code == .injectedTransient && error?.isRetriable == true)
      #expect(try await harness.status(paid.paymentId) == .rewardFailed)
      #expect(try await harness.service.compensationFailures().isEmpty)

      // The loop's next attempt succeeds (the trigger fired once).
      try await harness.handle(handler, inbound(compensation(paid)))
      #expect(try await harness.status(paid.paymentId) == .refunded)
      #expect(try await harness.count("SELECT COUNT(*) FROM refunds") == 1)
    }
  }

  @Test(
    "a compensation dead-lettered after exhausted retries is parked; a retry later refunds it",
    arguments: SQLEngine.allCases)
  func exhaustedIsParked(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let paid = try await rewardFailed(harness)
      let message = inbound(compensation(paid))
      let recorder = OutcomeRecorder()
      let handler = PaymentCompensationHandler(metrics: recorder.metrics)
      let cause = SagaError(.databaseBusy, "database is locked")
      try await harness.database.write { db in
        try handler.deadLettered(
          message, error: cause, attempts: 3, context: MessageContext(envelope: message.envelope, service: .payments),
          in: db)
      }
      let parked = try #require(try await harness.service.payment(id: paid.paymentId))
      #expect(parked.status == .compensationFailed)
      #expect(parked.failureReason?.hasPrefix("retries-exhausted: ") == true)
      #expect(parked.failureReason?.contains("3 attempts") == true)
      let record = try #require(try await harness.service.compensationFailures().first)
      #expect(record.reasonCode == "retries-exhausted")
      #expect(try await harness.outbox(.compensationFailed).count == 1)
      #expect(recorder.counts == ["failed": 1])

      // The same dead letter again (a replay of the hook) parks nothing new.
      try await harness.database.write { db in
        try handler.deadLettered(
          message, error: cause, attempts: 3, context: MessageContext(envelope: message.envelope, service: .payments),
          in: db)
      }
      #expect(try await harness.service.compensationFailures(unresolvedOnly: false).count == 1)
      #expect(try await harness.outbox(.compensationFailed).count == 1)

      let retried = try await harness.service.retryCompensation(paymentId: paid.paymentId, by: "ops")
      #expect(retried.result == "refunded")
      #expect(try await harness.service.balance(userId: 1) == 100_000)
      #expect(try await harness.service.verify() == [])
    }
  }

  @Test("a body that does not decode leaves the dead-letter hook nothing to park", arguments: SQLEngine.allCases)
  func undecodableDeadLetter(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let message = InboundMessage(
        topic: "compensate-payment", partition: 0, offset: 0, key: nil, value: Array("nope".utf8), headers: [])
      try await harness.database.write { db in
        try PaymentCompensationHandler().deadLettered(
          message, error: SagaError(.invalidJSON, "x"), attempts: 1,
          context: MessageContext(envelope: message.envelope, service: .payments), in: db)
      }
      #expect(try await harness.service.compensationFailures(unresolvedOnly: false).isEmpty)
    }
  }

  @Test("a retry while the cause holds (amount mismatch) stays parked and says so", arguments: SQLEngine.allCases)
  func retryWhileCauseHolds(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let paid = try await rewardFailed(harness)
      try await harness.handle(PaymentCompensationHandler(), inbound(compensation(paid, amount: 60_000)))
      let result = try await harness.service.retryCompensation(paymentId: paid.paymentId, by: "ops")
      guard case .stillParked(_, let reason) = result else {
        Issue.record("expected stillParked, got \(result)")
        return
      }
      #expect(reason.hasPrefix("amount-mismatch: "))
      #expect(try await harness.status(paid.paymentId) == .compensationFailed)
      #expect(try await harness.service.balance(userId: 1) == 50_000)
      #expect(try await harness.service.compensationFailures().count == 1)
    }
  }

  @Test(
    "resolve with a note closes the record; the payment stays COMPENSATION_FAILED; no retry afterwards",
    arguments: SQLEngine.allCases)
  func resolveWithNote(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let paid = try await rewardFailed(harness)
      try await harness.handle(PaymentCompensationHandler(), inbound(compensation(paid, amount: 60_000)))
      #expect(try await harness.service.openCompensationCount() == 1)

      await #expect(throws: PaymentsError.self) {
        try await harness.service.resolveCompensation(paymentId: paid.paymentId, note: "  ", by: "carol")
      }
      let record = try await harness.service.resolveCompensation(
        paymentId: paid.paymentId, note: "refunded by bank transfer, ticket 42", by: "carol")
      #expect(record.status == "resolved" && record.isResolved)
      #expect(record.note == "refunded by bank transfer, ticket 42" && record.resolvedBy == "carol")
      #expect(try await harness.service.openCompensationCount() == 0)
      #expect(try await harness.service.compensationFailures().isEmpty)
      #expect(try await harness.service.compensationFailures(unresolvedOnly: false) == [record])
      #expect(try await harness.status(paid.paymentId) == .compensationFailed)
      #expect(try await harness.steps(paid.paymentId).last == .compensationResolved)

      let retry = await #expect(throws: PaymentsError.self) {
        try await harness.service.retryCompensation(paymentId: paid.paymentId, by: "dave")
      }
      #expect(retry?.code == .compensationClosed)
      let resolveAgain = await #expect(throws: PaymentsError.self) {
        try await harness.service.resolveCompensation(paymentId: paid.paymentId, note: "again", by: "dave")
      }
      #expect(resolveAgain?.code == .compensationClosed)
      let unknown = await #expect(throws: PaymentsError.self) {
        try await harness.service.retryCompensation(paymentId: 999, by: "dave")
      }
      #expect(unknown?.code == .compensationNotFound)
      #expect(try await harness.service.balance(userId: 1) == 50_000)
      #expect(try await harness.service.verify() == [])
    }
  }

  @Test(
    "a compensation parked as unknown is not retried onto a payment created later under that id",
    arguments: SQLEngine.allCases)
  func unknownThenCreated(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      // The next payment will get id 1; the compensation names it before it exists.
      try await harness.handle(
        PaymentCompensationHandler(),
        inbound(CompensatePayment(paymentId: 1, userId: 1, refundAmount: 50_000, reason: "x")))
      let paid = try await harness.paidSaga()
      #expect(paid.paymentId == 1)
      let result = try await harness.service.retryCompensation(paymentId: 1, by: "ops")
      guard case .stillParked(_, let reason) = result else {
        Issue.record("expected stillParked, got \(result)")
        return
      }
      #expect(reason.hasPrefix("not-parked: "))
      #expect(try await harness.status(1) == .paid)
      #expect(try await harness.service.balance(userId: 1) == 50_000)
      #expect(try await harness.count("SELECT COUNT(*) FROM refunds") == 0)
    }
  }
}
