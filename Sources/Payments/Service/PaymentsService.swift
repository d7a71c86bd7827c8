public import Foundation
public import SagaCore
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

  /// The default bound on requests per group commit (see `PayGroupCommit`): large
  /// enough that one fsync serves every payer waiting under load, small enough that one
  /// transaction stays a few milliseconds.
  public static let defaultMaxGroupSize = 256

  /// The group window when `payments.group_commit_window` is not set: long enough for a
  /// group to gather what arrives during a few of the engine's commits, short against a
  /// saga's latency. A PostgreSQL group costs two round trips to another process and its
  /// fsync, a SQLite group an fsync in this one (Docs/benchmarks.md, "2026-12-07 (forenoon)").
  public static func defaultGroupWindow(for engine: SQLEngine) -> Duration {
    switch engine {
    case .sqlite: .milliseconds(3)
    case .postgres: .milliseconds(8)
    }
  }

  public let database: PaymentsDatabase
  let clock: @Sendable () -> Date
  /// `payments.refund` fires in `retryCompensation` as it does in the compensation handler.
  let failpoints: Failpoints
  private let groupCommit: PayGroupCommit
  private let metrics: PaymentsMetrics

  /// - Parameters:
  ///   - database: the Payments database, migrated.
  ///   - clock: the time written to rows and headers (tests pin it).
  ///   - maxGroupSize: the most `pay` requests committed in one transaction.
  ///   - groupWindow: under load, the least time between the starts of two `pay` groups
  ///     (`payments.group_commit_window`; ``defaultGroupWindow(for:)``), waited on `waitClock`.
  ///   - failpoints: the node's failpoints (`payments.refund`).
  ///   - afterPayCommit: called once per committed `pay` group that created payments,
  ///     with their `ReservationCompleted` outbox rows as the relay reads them, before any
  ///     caller of the group is answered; the node hands them to the outbox relay.
  ///   - metrics: counts every `pay` call's outcome and how its group was written.
  public init(
    database: PaymentsDatabase, clock: @escaping @Sendable () -> Date = { Date() },
    maxGroupSize: Int = PaymentsService.defaultMaxGroupSize, groupWindow: Duration = .zero,
    waitClock: SagaClock = .continuous, failpoints: Failpoints = .disabled,
    afterPayCommit: (@Sendable (_ events: [OutboxRecord]) -> Void)? = nil, metrics: PaymentsMetrics = PaymentsMetrics()
  ) {
    self.database = database
    self.metrics = metrics
    self.clock = clock
    self.failpoints = failpoints
    self.groupCommit = PayGroupCommit(
      database: database, maxGroupSize: maxGroupSize, window: groupWindow, clock: waitClock,
      afterCommit: afterPayCommit, metrics: metrics)
  }

  /// How `pay` requests have been grouped into transactions so far.
  public var payStatistics: PayGroupStatistics { groupCommit.statistics }

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
      guard try !Wallet.userExists(id, in: db) else { throw PaymentsError(.userExists, "user \(id) already exists") }
      try Wallet.open(userId: id, at: now, in: db)
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
  /// Concurrent calls share that transaction (group commit, see `PayGroupCommit`), each
  /// in its own savepoint; the call returns once the transaction is durable.
  ///
  /// (userId, scheduleId) is the idempotency key: the same request again (same amount and
  /// seat) returns the existing payment with `duplicate` set and changes nothing.
  /// - Throws: `invalid-amount`, `invalid-id`, `user-not-found`, `insufficient-balance`,
  ///   `seat-taken`, or `idempotency-conflict` when the key holds a different request.
  public func pay(_ request: PayRequest) async throws(PaymentsError) -> PayResult {
    do {
      let result = try await payOnce(request)
      metrics.count(result.duplicate ? .duplicate : .paid)
      return result
    } catch {
      // A storage or internal error is a failure; anything else the request's own fault.
      let failed = error.code == .storage || error.code == .internalError
      metrics.count(failed ? .failed : .rejected)
      throw error
    }
  }

  /// `pay` without the counting.
  private func payOnce(_ request: PayRequest) async throws(PaymentsError) -> PayResult {
    try Self.requirePositive(request.userId, "user id", code: .invalidId)
    try Self.requirePositive(request.scheduleId, "schedule id", code: .invalidId)
    try Self.requirePositive(request.amount, "payment amount", code: .invalidAmount)
    if let seat = request.seat, seat.isEmpty || seat.count > Self.maximumSeatLength {
      throw PaymentsError(.invalidId, "a seat must be 1 to \(Self.maximumSeatLength) characters, got \(seat.count)")
    }
    let now = clock()
    let envelope = EventEnvelope(
      eventType: .reservationCompleted, trace: request.trace ?? .start(), producer: SagaService.payments.producerName,
      occurredAt: now)
    return try await groupCommit.submit(request, envelope: envelope, at: now).get()
  }

  /// The balance of `userId` in KRW.
  /// - Throws: `user-not-found`.
  public func balance(userId: Int64) async throws(PaymentsError) -> Int64 {
    let balance = try await read { db in try Wallet.balance(userId: userId, forUpdate: false, in: db) }
    guard let balance else { throw PaymentsError(.userNotFound, "user \(userId) does not exist") }
    return balance
  }

  /// Payment `id` with its reservation state, or nil when there is none.
  public func payment(id: Int64) async throws(PaymentsError) -> PaymentView? {
    try await read { db in try PaymentView.fetch(id: id, forUpdate: false, in: db) }
  }

  /// The payments whose ids lie in `ids`, in id order (one snapshot): what `sagactl load`
  /// polls instead of one `payment` per saga.
  public func payments(ids: ClosedRange<Int64>) async throws(PaymentsError) -> [PaymentView] {
    try await read { db in try PaymentView.fetchAll(ids: ids, in: db) }
  }

  /// The saga timeline of payment `paymentId`, oldest first (empty for an unknown id
  /// that no event ever named).
  public func steps(paymentId: Int64) async throws(PaymentsError) -> [SagaStep] {
    try await read { db in try SagaStep.fetchAll(paymentId: paymentId, in: db) }
  }

  /// Checks the money invariants over the whole database and returns one line per
  /// violation; empty means consistent. See `PaymentsAudit` for the list.
  public func verify() async throws(PaymentsError) -> [String] {
    try await read { db in try PaymentsAudit.violations(in: db) }
  }

  // MARK: - Plumbing

  private static func requirePositive(_ value: Int64, _ what: String, code: PaymentsError.Code) throws(PaymentsError) {
    guard value > 0 else { throw PaymentsError(code, "the \(what) must be greater than 0, got \(value)") }
  }

  func write<T: Sendable>(_ updates: @escaping @Sendable (any SQLConnection) throws -> T) async throws(PaymentsError)
    -> T
  {
    do {
      return try await database.write(updates)
    } catch {
      throw PaymentsError.wrapping(error)
    }
  }

  func read<T: Sendable>(_ value: @escaping @Sendable (any SQLConnection) throws -> T) async throws(PaymentsError) -> T
  {
    do {
      return try await database.read(value)
    } catch {
      throw PaymentsError.wrapping(error)
    }
  }
}
