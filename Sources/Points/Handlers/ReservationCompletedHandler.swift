import Foundation
public import SagaCore
public import SagaRuntime
public import SagaStorage

/// Points' consumer of `reservation-completed` (group `points-service`): credits the reward
/// and announces it, or records a permanent failure and asks Payments to compensate.
///
/// Everything happens in the caller's transaction (the consume loop's savepoint), so the
/// decision, the balance and the outbox rows commit together or not at all. That is how the
/// report's weaknesses go away (Docs/design.md, "What sagad changes in the
/// original services"):
/// * UNIQUE (user, payment) makes a redelivery a **duplicate**: nothing changes and the
///   recorded outcome is announced again, which heals a lost outcome event when the sweeper
///   re-announces a stuck saga. It never throws: the report's proposed
///   `AlreadyProcessedException` would have been turned into a compensation by its catch-all.
/// * A permanent business failure writes `PointRewardFailed` and `CompensatePayment` exactly
///   once, in the transaction that records it, and returns normally; the report's catch block
///   published both and rethrew, so every retry compensated again.
/// * Invalid bodies and database errors are thrown as `SagaError`s: the loop dead-letters
///   the permanent ones and retries the transient ones (busy, I/O), with nothing written;
///   when the retries run out, `deadLettered` fails the reward as above.
public struct ReservationCompletedHandler: SagaMessageHandler {
  /// How much a payment earns.
  public let rule: RewardRule
  /// What runs Payments (`peers.payments`). Toward a peer without idempotency (the report's
  /// Spring Payments refunds every copy) a duplicate does not send `CompensatePayment` again.
  public let paymentsPeer: PeerKind
  /// Where each decision is counted once its transaction committed (a rolled-back batch is
  /// decided again on the retry, and counted then).
  public let metrics: RewardMetrics

  /// `points.reward` fires before the reward is written.
  public let failpoints: Failpoints

  public var consumerGroup: SagaConsumerGroup { .pointsService }

  public init(
    rule: RewardRule = .standard, paymentsPeer: PeerKind = .sagad, failpoints: Failpoints = .disabled,
    metrics: RewardMetrics = RewardMetrics()
  ) {
    self.rule = rule
    self.paymentsPeer = paymentsPeer
    self.failpoints = failpoints
    self.metrics = metrics
  }

  /// Decodes the body (a `ReservationCompleted` in the report's format; no `eventVersion`
  /// means 1.0, headers are optional) and applies it.
  /// - Throws: the codec's permanent `SagaError` for an invalid body (`invalid-json`,
  ///   `missing-field`, `wrong-type`, `invalid-value`, `unsupported-version`), or
  ///   `SagaError.storage(_:)` for a database failure.
  public func handle(_ message: InboundMessage, context: MessageContext, in db: any SQLConnection) throws(SagaError) {
    // A tombstone (no value) is as unparseable as an empty body.
    try process(message, context: context, in: db)
  }

  /// The accounts the batch will credit, locked in user order (`SagaMessageHandler.lockShared`):
  /// two Points instances take records of one user from different partitions. Bodies that do
  /// not decode are left to `handle`, which dead-letters them.
  public func lockShared(_ messages: [InboundMessage], in db: any SQLConnection) throws(SagaError) {
    // SQLite has one writer: nothing to lock.
    guard db.engine == .postgres, messages.count > 1 else { return }
    let users = messages.compactMap { try? $0.event(ReservationCompleted.self).userId }
    do {
      try PointsStore.lockAccounts(users, in: db)
    } catch {
      throw SagaError.storage(error)
    }
  }

  /// A reward's writes hold whatever another instance commits meanwhile: the ledger row's key
  /// (user, payment) is unique, the balance grows by the reward (an overflow the read missed
  /// fails the `UPDATE`), and the ids were drawn with the read. A batch of them, each of its
  /// user's only one (a second must read after the first's writes), is written as one
  /// statement, without the accounts' lock; a failure's record is not held, so a batch with
  /// one runs as a transaction.
  public func writesInOneStatement(_ messages: [InboundMessage]) -> Bool {
    var users = Set<Int64>()
    return messages.allSatisfy { message in
      (try? message.event(ReservationCompleted.self)).map { users.insert($0.userId).inserted } ?? false
    }
  }

  /// The decisions' reads of the batch's records, in one statement on PostgreSQL
  /// (`SagaMessageHandler.prefetch`); a user's first record of the batch decides from them.
  public func prefetch(_ messages: [InboundMessage], in db: any SQLConnection) throws(SagaError) -> (any Sendable)? {
    guard db.engine == .postgres, !messages.isEmpty else { return nil }
    var seen = Set<PointsStore.PaymentKey>()
    let keys = messages.compactMap { message -> PointsStore.PaymentKey? in
      guard let event = try? message.event(ReservationCompleted.self) else { return nil }
      let key = PointsStore.PaymentKey(userId: event.userId, paymentId: event.paymentId)
      return seen.insert(key).inserted ? key : nil
    }
    do {
      return try PointsStore.standings(keys, in: db)
    } catch {
      throw SagaError.storage(error)
    }
  }

  /// `handle(_:context:in:)`, returning what was decided (for a wrapper that measures
  /// rewards). Records the step `sagactl saga` shows, with where `message` was read.
  @discardableResult
  public func process(_ message: InboundMessage, context: MessageContext, in db: any SQLConnection) throws(SagaError)
    -> RewardOutcome
  {
    let event = try message.event(ReservationCompleted.self)
    return try apply(event, message: message, context: context, in: db)
  }

  /// The loop gave up on `message`. If it was a valid event that kept failing transiently
  /// (busy or broken storage, an injected fault), the reward fails for good exactly as for an
  /// unenrolled user: the failure is recorded with the error as its reason, and
  /// `PointRewardFailed` and `CompensatePayment` are written, so the saga still ends (the
  /// payment is refunded) while the message waits in the DLT. An invalid body has no saga
  /// to decide, and an outcome recorded already (under another event id) stands.
  public func deadLettered(
    _ message: InboundMessage, error: SagaError, attempts: Int, context: MessageContext, in db: any SQLConnection
  ) throws(SagaError) {
    guard error.isRetriable,
      let event = try? message.event(ReservationCompleted.self),
      event.paidAmount >= 0
    else { return }
    let reason = SagaError(
      error.code, "\(error.message) (gave up after \(attempts) attempts)", failureClass: .permanent)
    let decision: Decision
    do {
      guard try PointsStore.reward(userId: event.userId, paymentId: event.paymentId, in: db) == nil,
        try PointsStore.failure(userId: event.userId, paymentId: event.paymentId, in: db) == nil
      else { return }
      decision = try fail(event, reason, context: context, in: db)
      try decision.record(event, message: message, at: context.now, in: db)
    } catch {
      throw SagaError.storage(error)
    }
    let outcome = decision.outcome
    context.onCommit { [metrics] in metrics.count(outcome) }
  }

  /// Applies an already decoded event: duplicate check, enrolment check, reward.
  /// - Throws: `invalid-value` for a negative `paidAmount` (decoded events never have one),
  ///   or `SagaError.storage(_:)` for a database failure.
  @discardableResult
  public func handle(
    _ event: ReservationCompleted, context: MessageContext, in db: any SQLConnection
  ) throws(SagaError) -> RewardOutcome {
    try apply(event, message: nil, context: context, in: db)
  }

  /// `handle(_:context:in:)`, recording the step of `message` for `sagactl saga` when given.
  private func apply(
    _ event: ReservationCompleted, message: InboundMessage?, context: MessageContext, in db: any SQLConnection
  ) throws(SagaError) -> RewardOutcome {
    guard event.paidAmount >= 0 else {
      throw SagaError(
        .invalidValue, "ReservationCompleted.paidAmount must not be negative, got \(event.paidAmount)",
        field: "paidAmount", failureClass: .permanent)
    }
    let decision: Decision
    do {
      decision = try decide(event, context: context, in: db)
      if let message { try decision.record(event, message: message, at: context.now, in: db) }
    } catch {
      throw SagaError.storage(error)
    }
    let outcome = decision.outcome
    context.onCommit { [metrics] in metrics.count(outcome) }
    return decision.outcome
  }

  /// What was decided for one message, and what `sagactl saga` shows of it.
  private struct Decision {
    var outcome: RewardOutcome
    var step: PointsSagaStep.Kind
    var text: String
    var outboxIds: [Int64]

    func record(_ event: ReservationCompleted, message: InboundMessage, at now: Date, in db: any SQLConnection) throws {
      try PointsSagaStep.record(
        step, paymentId: event.paymentId, message: message, outcome: text, outboxIds: outboxIds, at: now, in: db)
    }
  }

  private func decide(_ event: ReservationCompleted, context: MessageContext, in db: any SQLConnection) throws
    -> Decision
  {
    // Duplicates first, before anything else can differ: the outcome was decided once and
    // is only re-announced, with the recorded values even if this copy of the event
    // disagrees (the first copy is the one the decision was made on).
    // The first record of its user in a batch lets the writes held for earlier records ride
    // with its decision: none of them touched its rows (one round trip per reward).
    // Read for the whole batch already when it is the user's first record (`prefetch`).
    let first = context.firstInBatch("user \(event.userId)")
    let key = PointsStore.PaymentKey(userId: event.userId, paymentId: event.paymentId)
    let prefetched = first ? (context.batch?.prefetched as? [PointsStore.PaymentKey: PointsStore.Standing])?[key] : nil
    let standing =
      try prefetched
      ?? PointsStore.standing(userId: event.userId, paymentId: event.paymentId, besideHeldWrites: first, in: db)
    if standing.rewarded, let reward = try PointsStore.reward(userId: event.userId, paymentId: event.paymentId, in: db)
    {
      let id = try context.emit(reward.event, in: db)
      return Decision(
        outcome: .duplicate, step: .reannouncementAnswered,
        text: "already rewarded \(reward.amount) points (point \(reward.pointId)): PointRewardCompleted sent again",
        outboxIds: [id])
    }
    if standing.failed, let failure = try PointsStore.failure(userId: event.userId, paymentId: event.paymentId, in: db)
    {
      guard paymentsPeer.isIdempotent else {
        // A second CompensatePayment would be a second refund on such a peer.
        let id = try context.emit(failure.failedEvent, in: db)
        return Decision(
          outcome: .duplicate, step: .reannouncementAnswered,
          text: "already failed (\(failure.reasonCode.rawValue)): PointRewardFailed sent again; CompensatePayment"
            + " not sent again, Payments is a \(paymentsPeer) peer without idempotency (peers.payments)",
          outboxIds: [id])
      }
      let ids = try announce(failure, context: context, in: db)
      return Decision(
        outcome: .duplicate, step: .reannouncementAnswered,
        text: "already failed (\(failure.reasonCode.rawValue)): PointRewardFailed and CompensatePayment sent again",
        outboxIds: ids)
    }

    // The report's NotFoundException: no retry can create the account, so fail for good.
    guard let balance = standing.balance else {
      return try fail(
        event, SagaError(.userNotEnrolled, "user \(event.userId) has no point account"), context: context, in: db)
    }
    let amount = rule.reward(forPaid: event.paidAmount)
    // Checked here because SQLite would silently turn an overflowing sum into a REAL. A
    // prefetched balance may predate another instance's credit (the batch locks after its
    // reads): balances only grow, so an overflow found here is real, and one missed here makes
    // PostgreSQL refuse the UPDATE, which sends the batch to the isolated run (locked reads).
    guard !balance.addingReportingOverflow(amount).overflow else {
      let reason = "crediting \(amount) to user \(event.userId)'s balance \(balance) would overflow"
      return try fail(event, SagaError(.pointBalanceOverflow, reason), context: context, in: db)
    }
    // A drill's fault lands after the duplicate and enrolment checks, just before the write.
    try failpoints.hit(.pointsReward)
    let reward = try PointsStore.credit(event, amount: amount, id: standing.ids?.ledger, at: context.now, in: db)
    let id: Int64
    if let drawn = standing.ids?.outbox {
      try context.emit(reward.event, id: drawn, in: db)
      id = drawn
    } else {
      id = try context.emit(reward.event, in: db)
    }
    return Decision(
      outcome: .rewarded(amount: amount), step: .rewardRecorded,
      text: "\(amount) points credited for \(event.paidAmount) KRW (point \(reward.pointId))", outboxIds: [id])
  }

  /// Records the failure and writes its two events, all in the current transaction.
  private func fail(
    _ event: ReservationCompleted, _ error: SagaError, context: MessageContext, in db: any SQLConnection
  ) throws -> Decision {
    let failure = try PointsStore.recordFailure(event, error: error, at: context.now, in: db)
    let ids = try announce(failure, context: context, in: db)
    return Decision(
      outcome: .failed(reason: failure.error), step: .failureRecorded,
      text: "\(failure.error.description): PointRewardFailed and CompensatePayment written", outboxIds: ids)
  }

  /// The failure first, then the compensation, as the report's service sends them.
  /// Returns the two outbox row ids.
  private func announce(_ failure: RewardFailure, context: MessageContext, in db: any SQLConnection) throws -> [Int64] {
    [try context.emit(failure.failedEvent, in: db), try context.emit(failure.compensation, in: db)]
  }
}
