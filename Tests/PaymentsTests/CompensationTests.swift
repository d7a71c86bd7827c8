import Foundation
import Payments
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

@Suite("Payments: compensation", .postgresServer, .timeLimit(.minutes(2)))
struct CompensationTests {
  @Test(
    "a compensation refunds once: wallet restored, REFUNDED, CANCELLED, one refund; again is a duplicate",
    arguments: SQLEngine.allCases)
  func refundsOnce(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let recorder = OutcomeRecorder()
      let handler = PaymentCompensationHandler(metrics: recorder.metrics)
      #expect(handler.consumerGroup == .paymentCompensationService)
      let paid = try await harness.paidSaga()
      try await harness.handle(
        PaymentsSagaTrackerHandler(),
        inbound(
          PointRewardFailed(userId: 1, paymentId: paid.paymentId, reservationId: paid.reservationId, reason: "no")))
      let compensate = CompensatePayment(
        paymentId: paid.paymentId, userId: 1, refundAmount: 50_000, reason: "reward failed")
      try await harness.handle(handler, inbound(compensate, offset: 0))
      // Points re-announces its outcome: the same request under a new event id.
      try await harness.handle(handler, inbound(compensate, offset: 1))

      let payment = try #require(try await harness.service.payment(id: paid.paymentId))
      #expect(payment.status == .refunded && payment.reservationStatus == .cancelled)
      #expect(payment.refundedAmount == 50_000)
      #expect(try await harness.service.balance(userId: 1) == 100_000)
      #expect(try await harness.count("SELECT COUNT(*) FROM refunds") == 1)
      #expect(try await harness.count("SELECT COUNT(*) FROM wallet_ledger WHERE kind = 'refund'") == 1)
      #expect(
        try await harness.steps(paid.paymentId) == [
          .paymentAccepted, .rewardFailed, .compensationRefunded, .compensationDuplicate,
        ])
      #expect(recorder.counts == ["refunded": 1, "duplicate": 1])
      #expect(try await harness.outbox(.compensationFailed).isEmpty)
      #expect(try await harness.service.verify() == [])

      // The seat is free again.
      try await harness.service.addUser(id: 2, initialBalance: 50_000)
      let resold = try await harness.service.pay(PayRequest(userId: 2, scheduleId: 10, seat: "A-1", amount: 50_000))
      #expect(resold.status == .paid)
    }
  }

  @Test("compensate-payment before point-reward-failed ends REFUNDED", arguments: SQLEngine.allCases)
  func compensationOvertakesFailure(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let paid = try await harness.paidSaga()
      try await harness.handle(
        PaymentCompensationHandler(),
        inbound(CompensatePayment(paymentId: paid.paymentId, userId: 1, refundAmount: 50_000, reason: "no account")))
      #expect(try await harness.status(paid.paymentId) == .refunded)
      try await harness.handle(
        PaymentsSagaTrackerHandler(),
        inbound(
          PointRewardFailed(
            userId: 1, paymentId: paid.paymentId, reservationId: paid.reservationId, reason: "no account")))
      #expect(try await harness.status(paid.paymentId) == .refunded)
      #expect(
        try await harness.steps(paid.paymentId) == [.paymentAccepted, .compensationRefunded, .lateEventIgnored])
      #expect(try await harness.service.balance(userId: 1) == 100_000)
      #expect(try await harness.count("SELECT COUNT(*) FROM refunds") == 1)
      #expect(try await harness.service.verify() == [])
    }
  }

  @Test(
    "an amount mismatch parks the payment, records the failure and emits CompensationFailed once",
    arguments: SQLEngine.allCases)
  func amountMismatch(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let recorder = OutcomeRecorder()
      let paid = try await harness.paidSaga()
      let trace = TraceContext.start()
      try await harness.handle(
        PaymentCompensationHandler(metrics: recorder.metrics),
        inbound(
          CompensatePayment(paymentId: paid.paymentId, userId: 1, refundAmount: 60_000, reason: "x"), trace: trace))

      let payment = try #require(try await harness.service.payment(id: paid.paymentId))
      #expect(payment.status == .compensationFailed && payment.reservationStatus == .reserved)
      #expect(payment.failureReason?.hasPrefix("amount-mismatch: ") == true)
      #expect(try await harness.service.balance(userId: 1) == 50_000)
      #expect(try await harness.count("SELECT COUNT(*) FROM refunds") == 0)

      let failed = try await expectOneFailure(harness, paymentId: paid.paymentId, code: "amount-mismatch")
      #expect(failed.refundAmount == 60_000 && failed.userId == 1)
      // It continues the compensation's trace, not the payment's.
      let rows = try await harness.outbox(.compensationFailed)
      #expect(envelope(of: rows[0]).trace?.traceId == trace.traceId)
      #expect(envelope(of: rows[0]).correlationId == trace.traceId)
      #expect(recorder.counts == ["failed": 1])
      #expect(try await harness.steps(paid.paymentId) == [.paymentAccepted, .compensationFailed])

      // Parked is terminal: the right compensation arriving later does not refund it.
      try await harness.handle(
        PaymentCompensationHandler(metrics: recorder.metrics),
        inbound(CompensatePayment(paymentId: paid.paymentId, userId: 1, refundAmount: 50_000, reason: "x")))
      #expect(try await harness.status(paid.paymentId) == .compensationFailed)
      #expect(try await harness.outbox(.compensationFailed).count == 1)
      #expect(recorder.counts == ["failed": 1, "duplicate": 1])
      #expect(try await harness.service.verify() == [])
    }
  }

  @Test("a compensation for an unknown payment is parked once, with no payment to move", arguments: SQLEngine.allCases)
  func unknownPayment(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let recorder = OutcomeRecorder()
      let handler = PaymentCompensationHandler(metrics: recorder.metrics)
      let compensate = CompensatePayment(paymentId: 404, userId: 3, refundAmount: 1_000, reason: "x")
      try await harness.handle(handler, inbound(compensate))
      try await harness.handle(handler, inbound(compensate, offset: 1))

      let failed = try await expectOneFailure(harness, paymentId: 404, code: "unknown-payment")
      #expect(failed.userId == 3 && failed.refundAmount == 1_000)
      #expect(try await harness.service.payment(id: 404) == nil)
      #expect(try await harness.count("SELECT COUNT(*) FROM payments") == 0)
      #expect(recorder.counts == ["failed": 1, "duplicate": 1])
      #expect(try await harness.steps(404) == [.compensationFailed, .compensationDuplicate])
      #expect(try await harness.service.verify() == [])
    }
  }

  @Test("a compensation for a REWARDED payment is parked, nothing is refunded", arguments: SQLEngine.allCases)
  func alreadyRewarded(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let paid = try await harness.paidSaga()
      try await harness.handle(
        PaymentsSagaTrackerHandler(),
        inbound(
          PointRewardCompleted(
            pointId: 8, userId: 1, rewardedAmount: 5_000, reservationId: paid.reservationId,
            paymentId: paid.paymentId)))
      try await harness.handle(
        PaymentCompensationHandler(),
        inbound(CompensatePayment(paymentId: paid.paymentId, userId: 1, refundAmount: 50_000, reason: "x")))

      let payment = try #require(try await harness.service.payment(id: paid.paymentId))
      #expect(payment.status == .compensationFailed && payment.rewardAmount == 5_000)
      #expect(try await harness.service.balance(userId: 1) == 50_000)
      _ = try await expectOneFailure(harness, paymentId: paid.paymentId, code: "already-rewarded")
      #expect(
        try await harness.steps(paid.paymentId) == [.paymentAccepted, .rewardCompleted, .compensationFailed])
      #expect(try await harness.service.verify() == [])
    }
  }

  @Test("a compensation naming another user is parked, nothing is refunded", arguments: SQLEngine.allCases)
  func userMismatch(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let paid = try await harness.paidSaga()
      try await harness.handle(
        PaymentCompensationHandler(),
        inbound(CompensatePayment(paymentId: paid.paymentId, userId: 2, refundAmount: 50_000, reason: "x")))
      #expect(try await harness.status(paid.paymentId) == .compensationFailed)
      _ = try await expectOneFailure(harness, paymentId: paid.paymentId, code: "user-mismatch")
      #expect(try await harness.service.balance(userId: 1) == 50_000)
    }
  }

  @Test("an undecodable compensation is a permanent error that changes nothing", arguments: SQLEngine.allCases)
  func badBody(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let paid = try await harness.paidSaga()
      let body = #"{"paymentId":\#(paid.paymentId),"userId":1,"refundAmount":"50000","reason":"x"}"#
      let message = InboundMessage(
        topic: "compensate-payment", partition: 0, offset: 0, key: nil, value: Array(body.utf8), headers: [])
      let error = await #expect(throws: SagaError.self) {
        try await harness.handle(PaymentCompensationHandler(), message)
      }
      #expect(error?.code == .wrongType && error?.failureClass == .permanent)
      #expect(try await harness.status(paid.paymentId) == .paid)
      #expect(try await harness.service.compensationFailures().isEmpty)
    }
  }

  /// Exactly one parked compensation and one `compensation-failed` outbox row for
  /// `paymentId`, with matching contents; returns the record.
  private func expectOneFailure(
    _ harness: PaymentsHarness, paymentId: Int64, code: String
  ) async throws -> CompensationFailureRecord {
    let records = try await harness.service.compensationFailures()
    try #require(records.count == 1)
    let record = records[0]
    #expect(record.paymentId == paymentId && record.reasonCode == code && !record.isResolved)
    #expect(record.reason.hasPrefix(code + ": "))

    let rows = try await harness.outbox(.compensationFailed)
    try #require(rows.count == 1)
    #expect(rows[0].key == String(paymentId))
    let event = try EventCodec.decode(CompensationFailed.self, from: rows[0].payload)
    #expect(
      event
        == CompensationFailed(
          paymentId: paymentId, userId: record.userId, refundAmount: record.refundAmount, reason: record.reason))
    let headers = envelope(of: rows[0])
    #expect(headers.eventType == .compensationFailed && headers.producer == "sagad/payments")
    #expect(headers.eventId != nil && headers.trace != nil && headers.correlationId != nil)
    return record
  }
}
