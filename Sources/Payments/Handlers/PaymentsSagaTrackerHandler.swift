import Foundation
public import SagaCore
public import SagaRuntime
public import SagaStorage

/// Follows the reward half of the saga (group `payments-saga-tracker`, topics
/// `point-reward-completed` and `point-reward-failed`): `PAID` → `REWARDED` with the
/// reward amount and point id, or `PAID` → `REWARD_FAILED` with the reason.
///
/// Events from different topics arrive in any order, so only `PAID` moves. A payment
/// anywhere else (already rewarded, refunded by a compensation that overtook the failure
/// event, parked, or already marked failed) stays as it is; the event only adds a
/// `late-event-ignored` step, so the timeline still shows it arrived.
///
/// Decode errors and events about payments this service does not know are permanent
/// `SagaError`s: the loop records them for an operator and moves on.
public struct PaymentsSagaTrackerHandler: SagaMessageHandler {
  public var consumerGroup: SagaConsumerGroup { .paymentsSagaTracker }

  public init() {}

  /// A reward's writes hold only over the status they were decided on (`PaymentView.setRewarded`),
  /// and its timeline row is an insert: a batch of rewards, each of its payment's only one, is
  /// written as one statement. A failed reward's status change is not held, so a batch with
  /// one runs as a transaction.
  public func writesInOneStatement(_ messages: [InboundMessage]) -> Bool {
    var payments = Set<Int64>()
    return messages.allSatisfy { message in
      guard message.topic == SagaTopic.pointRewardCompleted.rawValue,
        let paymentId = (try? message.event(PointRewardCompleted.self))?.paymentId
      else { return false }
      return payments.insert(paymentId).inserted
    }
  }

  public func handle(_ message: InboundMessage, context: MessageContext, in db: any SQLConnection) throws(SagaError) {
    switch SagaTopic(rawValue: message.topic) {
    case .pointRewardCompleted:
      let event = try message.event(PointRewardCompleted.self)
      try Self.storing { try completed(event, message: message, context: context, in: db) }
    case .pointRewardFailed:
      let event = try message.event(PointRewardFailed.self)
      try Self.storing { try failed(event, message: message, at: context.now, in: db) }
    default:
      throw SagaError(.internalError, "\(consumerGroup.rawValue) does not consume \(message.coordinates)")
    }
  }

  /// The payments the batch's rewards name, read and locked in one statement on PostgreSQL
  /// (`SagaMessageHandler.prefetch`); a payment's first record of the batch decides from it.
  public func prefetch(_ messages: [InboundMessage], in db: any SQLConnection) throws(SagaError) -> (any Sendable)? {
    guard db.engine == .postgres, !messages.isEmpty else { return nil }
    let ids = messages.compactMap { message -> Int64? in
      guard message.topic == SagaTopic.pointRewardCompleted.rawValue else { return nil }
      return try? message.event(PointRewardCompleted.self).paymentId
    }
    var payments: [Int64: PaymentView]?
    try Self.storing { payments = try PaymentView.fetchLocked(ids: ids, in: db) }
    return payments
  }

  /// Runs `body`, turning SQLite errors into `SagaError`s the loop can classify.
  private static func storing(_ body: () throws -> Void) throws(SagaError) {
    do {
      try body()
    } catch {
      throw SagaError.storage(error)
    }
  }

  private func completed(
    _ event: PointRewardCompleted, message: InboundMessage, context: MessageContext, in db: any SQLConnection
  ) throws {
    let now = context.now
    // The report's Points service sends no paymentId: correlate by the reservation.
    let payment: PaymentView?
    if let paymentId = event.paymentId {
      // The first record of its payment in a batch decides from the batch's read (`prefetch`),
      // or lets the writes held for earlier records ride with its own: none of them touched
      // this payment's rows.
      let first = context.firstInBatch("payment \(paymentId)")
      let prefetched = first ? (context.batch?.prefetched as? [Int64: PaymentView])?[paymentId] : nil
      payment = try prefetched ?? PaymentView.fetch(id: paymentId, besideHeldWrites: first, in: db)
    } else {
      payment = try PaymentView.fetch(reservationId: event.reservationId, in: db)
    }
    guard let payment else {
      throw SagaError(
        .unknownPayment,
        "PointRewardCompleted names payment \(event.paymentId.map(String.init) ?? "(none)"), reservation"
          + " \(event.reservationId): no such payment",
        failureClass: .permanent)
    }
    try Self.requireSameSaga(
      payment, userId: event.userId, reservationId: event.reservationId, event: "PointRewardCompleted")
    guard payment.status == .paid else {
      return try Self.ignore(message, payment: payment, summary: "reward \(event.rewardedAmount) KRW", at: now, in: db)
    }
    try PaymentView.setRewarded(
      paymentId: payment.paymentId, rewardAmount: event.rewardedAmount, pointId: event.pointId, at: now, in: db)
    try SagaStep.record(
      .rewardCompleted, paymentId: payment.paymentId,
      outcome: "REWARDED: \(event.rewardedAmount) points credited (point \(event.pointId))", message: message,
      at: now, in: db)
  }

  private func failed(_ event: PointRewardFailed, message: InboundMessage, at now: Date, in db: any SQLConnection)
    throws
  {
    guard let payment = try PaymentView.fetch(id: event.paymentId, in: db) else {
      throw SagaError(
        .unknownPayment, "PointRewardFailed names payment \(event.paymentId): no such payment",
        failureClass: .permanent)
    }
    try Self.requireSameSaga(
      payment, userId: event.userId, reservationId: event.reservationId, event: "PointRewardFailed")
    guard payment.status == .paid else {
      return try Self.ignore(message, payment: payment, summary: "reward failure", at: now, in: db)
    }
    try PaymentView.setStatus(.rewardFailed, paymentId: payment.paymentId, failureReason: event.reason, at: now, in: db)
    try SagaStep.record(
      .rewardFailed, paymentId: payment.paymentId,
      outcome: "REWARD_FAILED: " + (event.reason ?? SagaStep.noReason), message: message, at: now, in: db)
  }

  /// An event whose ids disagree with the payment is not about this saga (a foreign or
  /// corrupted message); applying it would reward or fail the wrong payment.
  private static func requireSameSaga(
    _ payment: PaymentView, userId: Int64, reservationId: Int64, event: String
  ) throws {
    guard payment.userId == userId, payment.reservationId == reservationId else {
      throw SagaError(
        .invalidValue,
        "\(event) for payment \(payment.paymentId) names user \(userId), reservation \(reservationId);"
          + " the payment belongs to user \(payment.userId), reservation \(payment.reservationId)",
        failureClass: .permanent)
    }
  }

  private static func ignore(
    _ message: InboundMessage, payment: PaymentView, summary: String, at now: Date, in db: any SQLConnection
  ) throws {
    try SagaStep.record(
      .lateEventIgnored, paymentId: payment.paymentId, outcome: "ignored (state \(payment.status)): \(summary)",
      message: message, at: now, in: db)
  }
}
