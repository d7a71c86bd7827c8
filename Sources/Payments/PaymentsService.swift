public import Foundation
import GRDB
import SagaCore
public import SagaStorage

/// The Payments service's own operations (wallet, pay, lookups), each one transaction on
/// the service's database. The saga's reactions to Points live in the two handlers,
/// which the consume loop runs inside its batch transaction.
///
/// Every method throws only `PaymentsError`; storage trouble arrives as code `storage`
/// with `isRetriable` set when trying again can help.
public final class PaymentsService: Sendable {
  /// The longest seat label accepted; longer text is almost certainly not a seat.
  public static let maximumSeatLength = 64

  public let database: SagaDatabase
  private let clock: @Sendable () -> Date

  /// - Parameters:
  ///   - database: opened with `migrations: PaymentsSchema.register`.
  ///   - clock: the time written to rows and headers (tests pin it).
  public init(database: SagaDatabase, clock: @escaping @Sendable () -> Date = { Date() }) {
    self.database = database
    self.clock = clock
  }

  /// Creates user `id` with a wallet holding `initialBalance` KRW (a `charge` ledger row
  /// when it is above zero).
  /// - Throws: `user-exists` when the id is taken. Not idempotent on purpose: repeating
  ///   the call with another initial balance must not look like it worked.
  public func addUser(id: Int64, initialBalance: Int64 = 0) async throws(PaymentsError) {
    try Self.requirePositive(id, "user id", code: .invalidId)
    guard initialBalance >= 0 else {
      throw PaymentsError(.invalidAmount, "the initial balance must not be negative, got \(initialBalance)")
    }
    let now = clock()
    try await write { db in
      let exists = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)", arguments: [id])
      guard exists != true else { throw PaymentsError(.userExists, "user \(id) already exists") }
      let millis = now.paymentsMilliseconds
      try db.execute(sql: "INSERT INTO users (id, created_at) VALUES (?, ?)", arguments: [id, millis])
      try db.execute(
        sql: "INSERT INTO wallets (user_id, balance, updated_at) VALUES (?, 0, ?)", arguments: [id, millis])
      if initialBalance > 0 {
        try Wallet.post(.charge, userId: id, amount: initialBalance, at: now, in: db)
      }
    }
  }

  /// Adds `amount` KRW to the wallet of `userId` and returns the new balance.
  public func charge(userId: Int64, amount: Int64) async throws(PaymentsError) -> Int64 {
    try Self.requirePositive(userId, "user id", code: .invalidId)
    try Self.requirePositive(amount, "charge amount", code: .invalidAmount)
    let now = clock()
    return try await write { db in
      try Wallet.post(.charge, userId: userId, amount: amount, at: now, in: db)
    }
  }

  /// Pays for a reservation: in one transaction, deducts `amount`, creates the
  /// reservation and the `PAID` payment, writes `ReservationCompleted` to the outbox under
  /// a new trace (whose id becomes the saga's correlation id) and the first saga step.
  ///
  /// (userId, scheduleId) is the idempotency key: the same request again (same amount and
  /// seat) returns the existing payment with `duplicate` set and changes nothing.
  /// - Throws: `invalid-amount`, `invalid-id`, `user-not-found`, `insufficient-balance`,
  ///   `seat-taken`, or `idempotency-conflict` when the key holds a different request.
  public func pay(_ request: PayRequest) async throws(PaymentsError) -> PayResult {
    try Self.requirePositive(request.userId, "user id", code: .invalidId)
    try Self.requirePositive(request.scheduleId, "schedule id", code: .invalidId)
    try Self.requirePositive(request.amount, "payment amount", code: .invalidAmount)
    if let seat = request.seat, seat.isEmpty || seat.count > Self.maximumSeatLength {
      throw PaymentsError(.invalidId, "a seat must be 1 to \(Self.maximumSeatLength) characters, got \(seat.count)")
    }
    let now = clock()
    let envelope = EventEnvelope(
      eventType: .reservationCompleted, trace: .start(), producer: SagaService.payments.producerName, occurredAt: now)
    return try await write { db in
      // The key first: a retry of a payment that emptied the wallet is a duplicate, not
      // an insufficient balance.
      if let existing = try PaymentView.fetch(userId: request.userId, scheduleId: request.scheduleId, in: db) {
        return try Self.duplicate(of: existing, for: request)
      }
      return try Self.insertPayment(request, envelope: envelope, at: now, in: db)
    }
  }

  /// The balance of `userId` in KRW.
  /// - Throws: `user-not-found`.
  public func balance(userId: Int64) async throws(PaymentsError) -> Int64 {
    let balance = try await read { db in try Wallet.balance(userId: userId, in: db) }
    guard let balance else { throw PaymentsError(.userNotFound, "user \(userId) does not exist") }
    return balance
  }

  /// Payment `id` with its reservation state, or nil when there is none.
  public func payment(id: Int64) async throws(PaymentsError) -> PaymentView? {
    try await read { db in try PaymentView.fetch(id: id, in: db) }
  }

  /// The saga timeline of payment `paymentId`, oldest first (empty for an unknown id
  /// that no event ever named).
  public func steps(paymentId: Int64) async throws(PaymentsError) -> [SagaStep] {
    try await read { db in try SagaStep.fetchAll(paymentId: paymentId, in: db) }
  }

  /// Parked compensations, oldest first; only those still waiting when `unresolvedOnly`.
  public func compensationFailures(unresolvedOnly: Bool = true) async throws(PaymentsError)
    -> [CompensationFailureRecord]
  {
    try await read { db in try CompensationFailureRecord.fetchAll(unresolvedOnly: unresolvedOnly, in: db) }
  }

  /// Checks the money invariants over the whole database and returns one line per
  /// violation; empty means consistent. See `PaymentsAudit` for the list.
  public func verify() async throws(PaymentsError) -> [String] {
    try await read { db in try PaymentsAudit.violations(in: db) }
  }

  // MARK: - Pay

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
    _ request: PayRequest, envelope: EventEnvelope, at now: Date, in db: Database
  ) throws -> PayResult {
    // Checked here for a clear message; Wallet.post and the CHECK constraint would
    // refuse the debit anyway.
    guard let balance = try Wallet.balance(userId: request.userId, in: db) else {
      throw PaymentsError(.userNotFound, "user \(request.userId) does not exist")
    }
    guard balance >= request.amount else {
      throw PaymentsError(
        .insufficientBalance, "user \(request.userId) has \(balance) KRW, the payment needs \(request.amount) KRW")
    }
    if let seat = request.seat {
      let taken = try Bool.fetchOne(
        db,
        sql: "SELECT EXISTS (SELECT 1 FROM reservations WHERE schedule_id = ? AND seat = ? AND status = 'RESERVED')",
        arguments: [request.scheduleId, seat])
      guard taken != true else {
        throw PaymentsError(.seatTaken, "seat \(seat) of schedule \(request.scheduleId) is already reserved")
      }
    }
    let millis = now.paymentsMilliseconds
    try db.execute(
      sql: """
        INSERT INTO reservations (user_id, schedule_id, seat, status, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?)
        """,
      arguments: [
        request.userId, request.scheduleId, request.seat, ReservationStatus.reserved.rawValue, millis, millis,
      ])
    let reservationId = db.lastInsertedRowID
    try db.execute(
      sql: """
        INSERT INTO payments (user_id, reservation_id, schedule_id, amount, status, trace_id, correlation_id,
                              created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
      arguments: [
        request.userId, reservationId, request.scheduleId, request.amount, PaymentStatus.paid.rawValue,
        envelope.trace.traceId, envelope.correlationId, millis, millis,
      ])
    let paymentId = db.lastInsertedRowID
    let newBalance = try Wallet.post(
      .payment, userId: request.userId, amount: -request.amount, paymentId: paymentId, at: now, in: db)
    let event = ReservationCompleted(
      paymentId: paymentId, userId: request.userId, reservationId: reservationId, paidAmount: request.amount)
    try EventOutbox.append(event, envelope: envelope, in: db)
    try SagaStep.record(
      .paymentAccepted, paymentId: paymentId,
      outcome: "PAID: \(request.amount) KRW deducted (balance \(newBalance) KRW), ReservationCompleted queued",
      eventId: envelope.eventId.uuidString.lowercased(), at: now, in: db)
    return PayResult(
      paymentId: paymentId, reservationId: reservationId, amount: request.amount, status: .paid, duplicate: false,
      correlationId: envelope.correlationId)
  }

  // MARK: - Plumbing

  private static func requirePositive(_ value: Int64, _ what: String, code: PaymentsError.Code) throws(PaymentsError) {
    guard value > 0 else { throw PaymentsError(code, "the \(what) must be greater than 0, got \(value)") }
  }

  private func write<T: Sendable>(_ updates: @Sendable (Database) throws -> T) async throws(PaymentsError) -> T {
    do {
      return try await database.write(updates)
    } catch {
      throw PaymentsError.wrapping(error)
    }
  }

  private func read<T: Sendable>(_ value: @Sendable (Database) throws -> T) async throws(PaymentsError) -> T {
    do {
      return try await database.read(value)
    } catch {
      throw PaymentsError.wrapping(error)
    }
  }
}
