import Foundation
import SagaStorage

/// Balance changes, always as a pair: a `wallet_ledger` row and the wallet's new
/// balance, in the caller's transaction. Nothing else writes `wallets.balance`, which is
/// what keeps the balance equal to the sum of the ledger (checked by `verify()`).
enum Wallet {
  /// Why the balance changed; stored as `wallet_ledger.kind`.
  enum EntryKind: String {
    /// Money in from outside (`charge`, an initial balance). Positive.
    case charge
    /// A payment's debit. Negative, names the payment.
    case payment
    /// A compensation's refund. Positive, names the payment.
    case refund
  }

  /// Whether user `id` exists.
  static func userExists(_ id: Int64, in db: some SQLConnection) throws -> Bool {
    try db.value(Bool.self, "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)", [id]) ?? false
  }

  /// Creates user `userId` with an empty wallet.
  static func open(userId: Int64, at now: Date, in db: some SQLConnection) throws {
    let millis = now.paymentsMilliseconds
    try db.execute("INSERT INTO users (id, created_at) VALUES (?, ?)", [userId, millis])
    try db.execute("INSERT INTO wallets (user_id, balance, updated_at) VALUES (?, 0, ?)", [userId, millis])
  }

  /// The balance of `userId`, or nil when the user has no wallet.
  /// `forUpdate` (inside a write transaction): on PostgreSQL the wallet's row stays locked
  /// until the transaction ends, because `post` writes the balance it computed from this read;
  /// two instances paying for one user must not both start from the same balance.
  static func balance(userId: Int64, forUpdate: Bool = true, in db: some SQLConnection) throws -> Int64? {
    let lock = forUpdate && db.engine == .postgres ? " FOR UPDATE" : ""
    return try db.value(Int64.self, "SELECT balance FROM wallets WHERE user_id = ?" + lock, [userId])
  }

  /// Locks the wallets of `users` in user order (`SQLConnection.lockInKeyOrder`): a `pay`
  /// group and a compensation batch lock all their wallets first, so that two of them on two
  /// instances wait for each other instead of deadlocking.
  static func lock(users: some Sequence<Int64>, in db: some SQLConnection) throws {
    try db.lockInKeyOrder(table: "wallets", column: "user_id", keys: users)
  }

  /// What `pay` decides from, in one statement: the wallet's balance (nil: no such user),
  /// locked as `balance(userId:)` locks it, and whether a payment holds the idempotency key
  /// (userId, scheduleId). A wallet exists for every user who can hold a payment.
  ///
  /// On PostgreSQL it also draws the ids the reservation, the payment and its outbox row will
  /// have, so that their inserts need no answer and can be deferred (a drawn id a refusal
  /// leaves unused is a gap, as a rolled-back insert leaves one).
  /// - Parameter besideHeldWrites: no write held on the connection touches this user's
  ///   wallet or payments (no earlier request of the transaction was this user's), so they
  ///   may ride with this statement (`SQLConnection.queryBesideDeferred`).
  /// - Parameter ids: ids drawn already for this request (``payStandings(_:in:)``): none are
  ///   drawn again.
  static func payStanding(
    userId: Int64, scheduleId: Int64, besideHeldWrites: Bool = false,
    ids drawn: PayStanding.Ids? = nil, in db: some SQLConnection
  ) throws -> PayStanding {
    let postgres = db.engine == .postgres
    let sql = postgres ? (drawn == nil ? payStandingPostgres : payStandingPostgresLocked) : payStandingSQLite
    let arguments: [any SQLBindable] = [scheduleId, userId]
    let rows = try besideHeldWrites ? db.queryBesideDeferred(sql, arguments) : db.query(sql, arguments)
    guard let row = rows.first else { return PayStanding(balance: nil, keyTaken: false, ids: drawn) }
    return PayStanding(
      balance: row[0], keyTaken: row[1], ids: drawn ?? (postgres ? (row[2], row[3], row[4]) : nil))
  }

  private static let payStandingSQLite = """
    SELECT w.balance, EXISTS (SELECT 1 FROM payments p WHERE p.user_id = w.user_id AND p.schedule_id = ?)
    FROM wallets w WHERE w.user_id = ?
    """
  /// With ids drawn already: only the read, locked.
  private static let payStandingPostgresLocked = payStandingSQLite + " FOR UPDATE OF w"
  private static let payStandingPostgres = """
    SELECT w.balance, EXISTS (SELECT 1 FROM payments p WHERE p.user_id = w.user_id AND p.schedule_id = ?),
           nextval('reservations_id_seq'), nextval('payments_id_seq'), nextval('outbox_id_seq')
    FROM wallets w WHERE w.user_id = ? FOR UPDATE OF w
    """

  /// ``payStanding(userId:scheduleId:besideHeldWrites:in:)`` of several requests in one
  /// statement, on PostgreSQL (a `pay` group: one round trip for all its decisions instead of
  /// one each); nil on SQLite, where a statement costs no round trip. The wallets must be
  /// locked already (``lock(users:)``): the rows are locked again here in request order,
  /// which only waits when another transaction holds one, never deadlocks.
  /// The ids are drawn for every request, in request order, so that payment ids follow the
  /// order the group accepts payments in; the rest holds for a user's first request only: a
  /// later one must see the earlier one's writes, which a statement run before both cannot.
  /// - Parameter requests: each request's user and schedule, in the group's order.
  /// - Parameter locking: false in a write of one statement (`SagaDatabase.writeInOneStatement`),
  ///   which keeps no lock: the wallets are read as they are, and ``post(_:userId:amount:paymentId:balance:at:in:)``
  ///   writes a balance only over the one it was computed from.
  ///   Then a request's seat is read with the rest (``PayStanding/seatTaken``): nothing of the
  ///   group is written yet when it is read, and a seat two requests of the group take breaks
  ///   its unique key, which sends the group under locks. Under locks the seat is read by each
  ///   request, after the group's writes before it.
  static func payStandings(
    _ requests: [(userId: Int64, scheduleId: Int64, seat: String?)], locking: Bool = true, in db: some SQLConnection
  ) throws -> [PayStanding]? {
    guard db.engine == .postgres else { return nil }
    guard !requests.isEmpty else { return [] }
    let rows = try db.query(
      locking ? payStandingsPostgres : payStandingsPostgresUnlocked,
      [
        requests.map(\.userId).bigintArrayLiteral, requests.map(\.scheduleId).bigintArrayLiteral,
        requests.map(\.seat).textArrayLiteral,
      ])
    // A user without a wallet has no row: nil balance, as payStanding answers.
    var standings = [PayStanding](
      repeating: PayStanding(balance: nil, keyTaken: false, ids: nil), count: requests.count)
    for row in rows {
      let index = Int(row[0] as Int64) - 1
      guard standings.indices.contains(index) else { continue }
      standings[index] = PayStanding(
        balance: row[1], keyTaken: row[2], ids: (row[3], row[4], row[5]), seatTaken: row[6])
    }
    return standings
  }

  private static let payStandingsPostgres = payStandingsSQL(locking: true)
  private static let payStandingsPostgresUnlocked = payStandingsSQL(locking: false)

  // One index lookup per request (a LATERAL subquery with LIMIT, and a scalar subquery rather
  // than EXISTS): joined over the array, PostgreSQL may hash all wallets or all payments.
  // Locking, the wallets are locked and the seats left to each request (NULL); not locking,
  // the seats are read here too.
  private static func payStandingsSQL(locking: Bool) -> String {
    let seatTaken =
      locking
      ? "CAST(NULL AS BOOLEAN)"
      : """
      r.seat IS NOT NULL AND (SELECT true FROM reservations s
               WHERE s.schedule_id = r.schedule_id AND s.seat = r.seat AND s.status = 'RESERVED' LIMIT 1) IS NOT NULL
      """
    return """
      SELECT r.ord, w.balance,
             (SELECT true FROM payments p WHERE p.user_id = r.user_id AND p.schedule_id = r.schedule_id LIMIT 1)
               IS NOT NULL,
             nextval('reservations_id_seq'), nextval('payments_id_seq'), nextval('outbox_id_seq'),
             \(seatTaken)
      FROM unnest(CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS TEXT[])) WITH ORDINALITY
        AS r(user_id, schedule_id, seat, ord)
      CROSS JOIN LATERAL (SELECT balance FROM wallets WHERE user_id = r.user_id LIMIT 1\(locking ? " FOR UPDATE" : "")) AS w
      ORDER BY r.ord
      """
  }

  /// ``payStanding(userId:scheduleId:besideHeldWrites:in:)``'s answer.
  struct PayStanding {
    var balance: Int64?
    var keyTaken: Bool
    /// The ids of the reservation, the payment and its `ReservationCompleted` outbox row to be
    /// (PostgreSQL only): their inserts are deferred, and the relay is handed the row after the
    /// commit (`OutboxHandoff`), which needs its id without waiting for the insert's answer.
    typealias Ids = (reservation: Int64, payment: Int64, outbox: Int64)
    var ids: Ids?
    /// Whether the request's seat is reserved already, when read with the rest (a `pay` group
    /// written as one statement); nil: the request reads it itself.
    var seatTaken: Bool? = nil
  }

  /// Adds `amount` (negative for a debit) to the wallet of `userId` and writes its ledger
  /// row. Returns the new balance. The arithmetic is done here, checked: SQLite would
  /// turn an overflowing integer sum into a floating-point value.
  /// - Parameter balance: the wallet's balance if the caller has just read it in this
  ///   transaction (`pay` has), saving a second lookup.
  @discardableResult
  static func post(
    _ kind: EntryKind, userId: Int64, amount: Int64, paymentId: Int64? = nil, balance: Int64? = nil, at now: Date,
    in db: some SQLConnection
  ) throws -> Int64 {
    guard let balance = try balance ?? self.balance(userId: userId, in: db) else {
      throw PaymentsError(.userNotFound, "user \(userId) has no wallet")
    }
    let (newBalance, overflow) = balance.addingReportingOverflow(amount)
    guard !overflow else {
      throw PaymentsError(
        .invalidAmount, "adding \(amount) KRW to the balance \(balance) KRW of user \(userId) overflows")
    }
    guard newBalance >= 0 else {
      throw PaymentsError(
        .insufficientBalance, "user \(userId) has \(balance) KRW, \(-amount) KRW needed")
    }
    let millis = now.paymentsMilliseconds
    // Cached: every payment and refund runs both.
    // Deferred: on PostgreSQL both ride with the next statement (the outbox row's, in `pay`).
    try db.executeDeferred(
      "INSERT INTO wallet_ledger (user_id, amount, kind, payment_id, created_at) VALUES (?, ?, ?, ?, ?)",
      [userId, amount, kind.rawValue, paymentId, millis])
    // Only over the balance it was computed from: under a lock (or SQLite's one writer) that
    // always holds; in a `pay` group written as one statement without locks, a wallet changed
    // since its read becomes -1, which the CHECK refuses, and the whole statement with it.
    try db.executeDeferred(
      "UPDATE wallets SET balance = CASE WHEN balance = ? THEN ? ELSE -1 END, updated_at = ? WHERE user_id = ?",
      [balance, newBalance, millis, userId])
    return newBalance
  }
}
