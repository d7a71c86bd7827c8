import Foundation
public import SagaCore
public import SagaRuntime
public import SagaStorage

/// Applies Points' compensation requests (group `payment-compensation-service`, topic
/// `compensate-payment`): refunds exactly the paid amount, once.
///
/// * `PAID` or `REWARD_FAILED` (the request may overtake `point-reward-failed`) with the
///   paid amount and the payment's user: a `refund` ledger row, the wallet, a `refunds`
///   row (unique per payment), payment `REFUNDED`, reservation `CANCELLED`.
/// * Already `REFUNDED`, or already parked: a duplicate; nothing changes.
/// * Unknown payment, another amount or user, or a payment already `REWARDED`: a
///   compensation failure. Unlike the report's service, which refunded whatever the
///   event said, nothing is refunded: the payment is parked `COMPENSATION_FAILED`, a
///   `compensation_failures` row and a `CompensationFailed` event are written, and an
///   operator decides (`PaymentsService.retryCompensation` / `resolveCompensation`).
///   That is a handled business outcome, not an error: nothing is thrown, so the loop
///   neither retries nor dead-letters it.
/// * The refund itself fails: a permanent error (the `payments.refund` failpoint's
///   `error(permanent)`, a missing wallet) parks the payment the same way; a transient
///   one is thrown for the loop to retry, and when its retries run out the loop calls
///   `deadLettered`, which parks it too. A compensation never just disappears into a DLT.
///
/// Every outcome writes a saga step and is written in the loop's transaction; only
/// decode and transient storage errors are thrown.
public struct PaymentCompensationHandler: SagaMessageHandler {
  public var consumerGroup: SagaConsumerGroup { .paymentCompensationService }

  private let metrics: PaymentsMetrics
  private let failpoints: Failpoints

  /// - Parameters:
  ///   - failpoints: `payments.refund` is hit right before the refund is written.
  ///   - metrics: counts each message's outcome once its transaction committed (a
  ///     rolled-back batch is decided again on the retry, and counted then).
  public init(failpoints: Failpoints = .disabled, metrics: PaymentsMetrics = PaymentsMetrics()) {
    self.failpoints = failpoints
    self.metrics = metrics
  }

  /// The wallets the batch's refunds will credit, locked in user order (as `pay` groups lock
  /// theirs): a compensation batch and a `pay` group on two instances then take turns.
  public func lockShared(_ messages: [InboundMessage], in db: any SQLConnection) throws(SagaError) {
    guard db.engine == .postgres, messages.count > 1 else { return }
    let users = messages.compactMap { try? $0.event(CompensatePayment.self).userId }
    do {
      try Wallet.lock(users: users, in: db)
    } catch {
      throw SagaError.storage(error)
    }
  }

  public func handle(_ message: InboundMessage, context: MessageContext, in db: any SQLConnection) throws(SagaError) {
    guard message.topic == SagaTopic.compensatePayment.rawValue else {
      throw SagaError(.internalError, "\(consumerGroup.rawValue) does not consume \(message.coordinates)")
    }
    let event = try message.event(CompensatePayment.self)
    let outcome: CompensationOutcome
    do {
      outcome = try compensate(event, message: message, context: context, in: db)
    } catch {
      throw SagaError.storage(error)
    }
    context.onCommit { [metrics] in metrics.count(outcome) }
  }

  /// A compensation the loop gave up on (its refund failed transiently on every attempt,
  /// code `retries-exhausted`, or an unexpected permanent error): parked like any other
  /// compensation failure, in the transaction that writes the dead letter, so the operator
  /// sees it in `compensations list` rather than only in the DLT. A body that does not
  /// decode names no payment to park and is left to the DLT alone.
  public func deadLettered(
    _ message: InboundMessage, error: SagaError, attempts: Int, context: MessageContext, in db: any SQLConnection
  ) throws(SagaError) {
    guard message.topic == SagaTopic.compensatePayment.rawValue,
      let event = try? message.event(CompensatePayment.self)
    else { return }
    let outcome: CompensationOutcome
    do {
      let payment = try PaymentView.fetch(id: event.paymentId, in: db)
      // Refunded or parked already (an unknown payment: parked already).
      let decided =
        try payment.map { $0.status == .refunded || $0.status == .compensationFailed }
        ?? CompensationFailureRecord.hasUnresolved(paymentId: event.paymentId, in: db)
      if decided {
        outcome = try duplicate(
          event, message: message, state: "dead-lettered, already decided", at: context.now, in: db)
      } else {
        let failure = SagaError(
          error.isRetriable ? CompensationRefund.retriesExhausted : error.code,
          "compensation of payment \(event.paymentId) dead-lettered after \(attempts) attempts: \(error.description)",
          failureClass: .permanent)
        outcome = try park(event, payment: payment, failure, message: message, context: context, in: db)
      }
    } catch {
      throw SagaError.storage(error)
    }
    context.onCommit { [metrics] in metrics.count(outcome) }
  }

  private func compensate(
    _ event: CompensatePayment, message: InboundMessage, context: MessageContext, in db: any SQLConnection
  ) throws -> CompensationOutcome {
    let now = context.now
    let payment = try PaymentView.fetch(id: event.paymentId, in: db)
    // Points re-announces its outcome on a duplicate reservation event, so the same
    // request can come again: park an unknown payment once.
    if payment == nil, try CompensationFailureRecord.hasUnresolved(paymentId: event.paymentId, in: db) {
      return try duplicate(event, message: message, state: "unknown payment, already parked", at: now, in: db)
    }
    if let payment, payment.status == .refunded || payment.status == .compensationFailed {
      return try duplicate(event, message: message, state: "state \(payment.status)", at: now, in: db)
    }
    if let obstacle = CompensationRefund.obstacle(
      paymentId: event.paymentId, userId: event.userId, refundAmount: event.refundAmount, payment: payment)
    {
      return try park(event, payment: payment, obstacle, message: message, context: context, in: db)
    }
    guard let payment else { throw SagaError(.internalError, "no obstacle reported for a missing payment") }
    do {
      return try refund(payment, event: event, message: message, at: now, in: db)
    } catch let error as SagaError where !error.isRetriable {
      let failure = CompensationRefund.failure(error, refunding: payment)
      return try park(event, payment: payment, failure, message: message, context: context, in: db)
    }
  }

  private func refund(
    _ payment: PaymentView, event: CompensatePayment, message: InboundMessage, at now: Date, in db: any SQLConnection
  ) throws -> CompensationOutcome {
    let balance = try CompensationRefund.apply(
      payment, reason: event.reason, failpoints: failpoints, at: now, in: db)
    try SagaStep.record(
      .compensationRefunded, paymentId: payment.paymentId,
      outcome: "REFUNDED: \(payment.amount) KRW back (balance \(balance) KRW), reservation"
        + " \(payment.reservationId) CANCELLED; reason: \(event.reason ?? SagaStep.noReason)",
      message: message, at: now, in: db)
    return .refunded(paymentId: payment.paymentId, amount: payment.amount)
  }

  private func duplicate(
    _ event: CompensatePayment, message: InboundMessage, state: String, at now: Date, in db: any SQLConnection
  ) throws -> CompensationOutcome {
    try SagaStep.record(
      .compensationDuplicate, paymentId: event.paymentId,
      outcome: "duplicate (\(state)): refund of \(event.refundAmount) KRW not applied again", message: message,
      at: now, in: db)
    return .duplicate(paymentId: event.paymentId)
  }

  /// Parks the compensation: payment (if any) `COMPENSATION_FAILED`, a failure record,
  /// `CompensationFailed` for operators and alerting, and a step, all in this transaction.
  private func park(
    _ event: CompensatePayment, payment: PaymentView?, _ failure: SagaError, message: InboundMessage,
    context: MessageContext, in db: any SQLConnection
  ) throws -> CompensationOutcome {
    let now = context.now
    let reason = failure.description
    if let payment {
      try PaymentView.setStatus(
        .compensationFailed, paymentId: payment.paymentId, failureReason: reason, at: now, in: db)
    }
    _ = try CompensationFailureRecord.insert(
      paymentId: event.paymentId, userId: event.userId, refundAmount: event.refundAmount,
      reasonCode: failure.code.rawValue, reason: reason, at: now, in: db)
    try context.emit(
      CompensationFailed(
        paymentId: event.paymentId, userId: event.userId, refundAmount: event.refundAmount, reason: reason),
      in: db)
    let state = payment.map { "\($0.status) → COMPENSATION_FAILED" } ?? "no payment"
    try SagaStep.record(
      .compensationFailed, paymentId: event.paymentId, outcome: "parked (\(state)): \(reason)", message: message,
      at: now, in: db)
    return .failed(paymentId: event.paymentId, reason: reason)
  }
}
