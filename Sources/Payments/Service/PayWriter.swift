import Foundation
import SagaCore
import SagaStorage

/// One `pay` inside an open write transaction: the idempotency check, then the debit,
/// reservation, payment, outbox row and first saga step. `PayGroupCommit` runs it once
/// per request, many requests per transaction; a refusal (`PaymentsError`) is always thrown
/// before the first write.
///
/// Statements are cached on the writer connection: parsing them anew for every request
/// (with GRDB's authorizer tracking each column) cost more CPU than running them.
enum PayWriter {
  /// - Parameter firstOfUser: no earlier request of this transaction was this user's: the
  ///   writes the connection holds (PostgreSQL) touch no row the decision reads, so they ride
  ///   with it, and a `pay` costs one round trip (Docs/storage-engines.md, "Round trips").
  /// - Parameter prefetched: the decision's reads and ids, made already for the whole group
  ///   (`Wallet.payStandings`, PostgreSQL). A user's first request decides from them; a later
  ///   one reads its own (after the earlier one's writes) and takes only the ids.
  /// What a `pay` wrote: its result, and the `ReservationCompleted` row as the relay would
  /// read it (nil for a duplicate, which writes nothing).
  struct Written {
    var result: PayResult
    var event: OutboxRecord?
  }

  static func apply(
    _ request: PayRequest, envelope: EventEnvelope, at now: Date, firstOfUser: Bool = false,
    prefetched: Wallet.PayStanding? = nil, in db: some SQLConnection
  ) throws -> Written {
    // The key first: a retry of a payment that emptied the wallet is a duplicate, not
    // an insufficient balance. It also sees an earlier request of the same group (the same
    // transaction).
    let standing =
      try (firstOfUser ? prefetched : nil)
      ?? Wallet.payStanding(
        userId: request.userId, scheduleId: request.scheduleId, besideHeldWrites: firstOfUser, ids: prefetched?.ids,
        in: db)
    if standing.keyTaken,
      let existing = try PaymentView.fetch(userId: request.userId, scheduleId: request.scheduleId, in: db)
    {
      return Written(result: try duplicate(of: existing, for: request), event: nil)
    }
    return try insertPayment(request, standing: standing, envelope: envelope, at: now, in: db)
  }

  private static func duplicate(of existing: PaymentView, for request: PayRequest) throws -> PayResult {
    guard existing.amount == request.amount, existing.seat == request.seat else {
      throw PaymentsError(
        .idempotencyConflict,
        "user \(request.userId) already paid \(existing.amount) KRW for schedule \(request.scheduleId)"
          + " (payment \(existing.paymentId), seat \(existing.seat ?? "none")); this request asks"
          + " \(request.amount) KRW, seat \(request.seat ?? "none")")
    }
    return PayResult(
      paymentId: existing.paymentId, reservationId: existing.reservationId, amount: existing.amount,
      status: existing.status, duplicate: true, correlationId: existing.correlationId)
  }

  private static func insertPayment(
    _ request: PayRequest, standing: Wallet.PayStanding, envelope: EventEnvelope, at now: Date,
    in db: some SQLConnection
  ) throws -> Written {
    // Every refusal is thrown before the first write: PayGroupCommit runs a group's requests
    // without savepoints and keeps going after a refusal. Checked here for a clear message
    // too; Wallet.post and the CHECK constraint would refuse the debit anyway.
    guard request.amount > 0 else {
      throw PaymentsError(.invalidAmount, "the amount must be greater than 0, got \(request.amount)")
    }
    guard let balance = standing.balance else {
      throw PaymentsError(.userNotFound, "user \(request.userId) does not exist")
    }
    guard balance >= request.amount else {
      throw PaymentsError(
        .insufficientBalance, "user \(request.userId) has \(balance) KRW, the payment needs \(request.amount) KRW")
    }
    if let seat = request.seat,
      try standing.seatTaken ?? PaymentView.isSeatReserved(seat, scheduleId: request.scheduleId, in: db)
    {
      throw PaymentsError(.seatTaken, "seat \(seat) of schedule \(request.scheduleId) is already reserved")
    }
    // Every write below is deferred on PostgreSQL: they go with the next request's decision
    // (or the commit) in one statement.
    let (reservationId, paymentId) = try PaymentView.insert(
      request, envelope: envelope, at: now, ids: standing.ids.map { ($0.reservation, $0.payment) }, in: db)
    let newBalance = try Wallet.post(
      .payment, userId: request.userId, amount: -request.amount, paymentId: paymentId, balance: balance, at: now,
      in: db)
    let event = ReservationCompleted(
      paymentId: paymentId, userId: request.userId, reservationId: reservationId, paidAmount: request.amount)
    // Under the id drawn with the decision (PostgreSQL: deferred), else the next one.
    let record = try EventOutbox.appendRecord(event, envelope: envelope, id: standing.ids?.outbox, in: db)
    try SagaStep.record(
      .paymentAccepted, paymentId: paymentId,
      outcome: "PAID: \(request.amount) KRW deducted (balance \(newBalance) KRW), ReservationCompleted queued",
      eventId: envelope.eventId.lowercasedText, at: now, in: db)
    let result = PayResult(
      paymentId: paymentId, reservationId: reservationId, amount: request.amount, status: .paid, duplicate: false,
      correlationId: envelope.correlationId)
    return Written(result: result, event: record)
  }
}
