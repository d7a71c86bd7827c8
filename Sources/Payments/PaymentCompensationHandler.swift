import Foundation
public import GRDB
public import SagaCore
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
///   operator decides. That is a handled business outcome, not an error: nothing is
///   thrown, so the loop neither retries nor dead-letters it.
///
/// Every outcome writes a saga step and is written in the loop's transaction; only
/// decode and storage errors are thrown.
public struct PaymentCompensationHandler: SagaMessageHandler {
  public var consumerGroup: SagaConsumerGroup { .paymentCompensationService }

  private let observer: (@Sendable (CompensationOutcome) -> Void)?

  /// - Parameter observer: told the outcome of each message once its changes are written
  ///   (for `compensate_payment_total{result}`). It runs inside the loop's transaction:
  ///   keep it cheap. If that transaction later rolls back, the message is redelivered and
  ///   reported again, an acceptable over-count for a counter.
  public init(observer: (@Sendable (CompensationOutcome) -> Void)? = nil) {
    self.observer = observer
  }

  public func handle(_ message: InboundMessage, context: MessageContext, in db: Database) throws(SagaError) {
    guard message.topic == SagaTopic.compensatePayment.rawValue else {
      throw SagaError(.internalError, "\(consumerGroup.rawValue) does not consume \(message.coordinates)")
    }
    let event = try EventCodec.decode(CompensatePayment.self, from: message.value ?? [])
    let outcome: CompensationOutcome
    do {
      outcome = try compensate(event, message: message, context: context, in: db)
    } catch {
      throw SagaError.storage(error)
    }
    observer?(outcome)
  }

  private static let userMismatch: SagaError.Code = "user-mismatch"

  private func compensate(
    _ event: CompensatePayment, message: InboundMessage, context: MessageContext, in db: Database
  ) throws -> CompensationOutcome {
    let now = context.now
    guard let payment = try PaymentView.fetch(id: event.paymentId, in: db) else {
      // Points re-announces its outcome on a duplicate reservation event, so the same
      // request can come again: park an unknown payment once.
      if try CompensationFailureRecord.hasUnresolved(paymentId: event.paymentId, in: db) {
        return try duplicate(event, message: message, state: "unknown payment, already parked", at: now, in: db)
      }
      let failure = SagaError(.unknownPayment, "compensation for payment \(event.paymentId): no such payment")
      return try park(event, payment: nil, failure, message: message, context: context, in: db)
    }
    switch payment.status {
    case .refunded, .compensationFailed:
      return try duplicate(event, message: message, state: "state \(payment.status)", at: now, in: db)
    case .rewarded:
      let failure = SagaError(
        .alreadyRewarded,
        "payment \(payment.paymentId) is REWARDED (\(payment.rewardAmount ?? 0) points credited); refunding it"
          + " would leave the reward in place")
      return try park(event, payment: payment, failure, message: message, context: context, in: db)
    case .paid, .rewardFailed:
      if event.userId != payment.userId {
        let failure = SagaError(
          Self.userMismatch,
          "compensation names user \(event.userId), payment \(payment.paymentId) belongs to user \(payment.userId)")
        return try park(event, payment: payment, failure, message: message, context: context, in: db)
      }
      if event.refundAmount != payment.amount {
        let failure = SagaError(
          .amountMismatch,
          "compensation asks \(event.refundAmount) KRW, payment \(payment.paymentId) paid \(payment.amount) KRW")
        return try park(event, payment: payment, failure, message: message, context: context, in: db)
      }
      return try refund(payment, event: event, message: message, at: now, in: db)
    }
  }

  private func refund(
    _ payment: PaymentView, event: CompensatePayment, message: InboundMessage, at now: Date, in db: Database
  ) throws -> CompensationOutcome {
    let balance = try Wallet.post(
      .refund, userId: payment.userId, amount: payment.amount, paymentId: payment.paymentId, at: now, in: db)
    let millis = now.paymentsMilliseconds
    try db.execute(
      sql: "INSERT INTO refunds (payment_id, amount, reason, created_at) VALUES (?, ?, ?, ?)",
      arguments: [payment.paymentId, payment.amount, event.reason, millis])
    try PaymentView.setStatus(.refunded, paymentId: payment.paymentId, at: now, in: db)
    try db.execute(
      sql: "UPDATE reservations SET status = ?, updated_at = ? WHERE id = ?",
      arguments: [ReservationStatus.cancelled.rawValue, millis, payment.reservationId])
    try SagaStep.record(
      .compensationRefunded, paymentId: payment.paymentId,
      outcome: "REFUNDED: \(payment.amount) KRW back (balance \(balance) KRW), reservation"
        + " \(payment.reservationId) CANCELLED; reason: \(event.reason)",
      message: message, at: now, in: db)
    return .refunded(paymentId: payment.paymentId, amount: payment.amount)
  }

  private func duplicate(
    _ event: CompensatePayment, message: InboundMessage, state: String, at now: Date, in db: Database
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
    context: MessageContext, in db: Database
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
