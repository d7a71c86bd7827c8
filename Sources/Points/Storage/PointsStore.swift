import Foundation
import SagaCore
import SagaStorage

/// The SQL of the Points tables, shared by the handler (inside the consume loop's
/// transaction) and `PointsService` (operator reads). Every function runs in whatever
/// transaction the caller has open. Hot-path statements are cached per connection: the
/// batch transaction runs them once per message, thousands of times a second.
enum PointsStore {
  /// The account's balance, or nil when the user is not enrolled.
  static func balance(userId: Int64, in db: some SQLConnection) throws -> Int64? {
    try db.value(Int64.self, "SELECT balance FROM point_accounts WHERE user_id = ?", [userId])
  }

  /// What a reward is decided from, in one statement (one round trip on PostgreSQL, where
  /// three lookups were three): whether (user, payment) was rewarded or failed already, and
  /// the account's balance (nil: not enrolled). On PostgreSQL it also draws the ids a reward
  /// writes (its ledger row, its outbox row), so that those inserts need no answer and are
  /// deferred; an id a duplicate or a failure leaves unused is a gap.
  /// - Parameter besideHeldWrites: no earlier record of the batch was this user's, so the
  ///   writes held on the connection touch none of the rows read, and ride with it.
  static func standing(
    userId: Int64, paymentId: Int64, besideHeldWrites: Bool = false, in db: some SQLConnection
  ) throws -> Standing {
    let postgres = db.engine == .postgres
    let arguments: [any SQLBindable] = [userId, paymentId, userId, paymentId, userId]
    let sql = postgres ? standingPostgres : standingSQLite
    let rows = try besideHeldWrites ? db.queryBesideDeferred(sql, arguments) : db.query(sql, arguments)
    guard let row = rows.first else { return Standing(rewarded: false, failed: false, balance: nil, ids: nil) }
    return Standing(rewarded: row[0], failed: row[1], balance: row[2], ids: postgres ? (row[3], row[4]) : nil)
  }

  /// ``standing(userId:paymentId:besideHeldWrites:in:)`` of several (user, payment) pairs in
  /// one statement, on PostgreSQL (a consume batch: one round trip for its records' decisions
  /// instead of one each), by pair; nil on SQLite, where a statement costs no round trip.
  static func standings(_ pairs: [PaymentKey], in db: some SQLConnection) throws -> [PaymentKey: Standing]? {
    guard db.engine == .postgres else { return nil }
    guard !pairs.isEmpty else { return [:] }
    let rows = try db.query(
      standingsPostgres, [pairs.map(\.userId).bigintArrayLiteral, pairs.map(\.paymentId).bigintArrayLiteral])
    var standings: [PaymentKey: Standing] = [:]
    for row in rows {
      let key = PaymentKey(userId: row[0], paymentId: row[1])
      standings[key] = Standing(rewarded: row[2], failed: row[3], balance: row[4], ids: (row[5], row[6]))
    }
    return standings
  }

  /// A reward's key: one per (user, payment).
  struct PaymentKey: Hashable, Sendable {
    var userId: Int64
    var paymentId: Int64
  }

  // Scalar subqueries rather than EXISTS: PostgreSQL may turn an EXISTS over the array's rows
  // into one hashed scan of the whole table; these stay one index lookup per row.
  private static let standingsPostgres = """
    SELECT r.user_id, r.payment_id,
           (SELECT true FROM point_ledger l WHERE l.user_id = r.user_id AND l.payment_id = r.payment_id LIMIT 1)
             IS NOT NULL,
           (SELECT true FROM reward_failures f WHERE f.user_id = r.user_id AND f.payment_id = r.payment_id LIMIT 1)
             IS NOT NULL,
           (SELECT a.balance FROM point_accounts a WHERE a.user_id = r.user_id),
           nextval('point_ledger_id_seq'), nextval('outbox_id_seq')
    FROM unnest(CAST(? AS BIGINT[]), CAST(? AS BIGINT[])) WITH ORDINALITY AS r(user_id, payment_id, ord)
    ORDER BY r.ord
    """

  /// ``standing(userId:paymentId:besideHeldWrites:in:)``'s answer.
  struct Standing: Sendable {
    var rewarded: Bool
    var failed: Bool
    var balance: Int64?
    /// The ledger row's and the outbox row's ids to be (PostgreSQL only).
    var ids: (ledger: Int64, outbox: Int64)?
  }

  private static let standingSQLite = """
    SELECT EXISTS (SELECT 1 FROM point_ledger WHERE user_id = ? AND payment_id = ?),
           EXISTS (SELECT 1 FROM reward_failures WHERE user_id = ? AND payment_id = ?),
           (SELECT balance FROM point_accounts WHERE user_id = ?)
    """
  private static let standingPostgres = """
    SELECT EXISTS (SELECT 1 FROM point_ledger WHERE user_id = ? AND payment_id = ?),
           EXISTS (SELECT 1 FROM reward_failures WHERE user_id = ? AND payment_id = ?),
           (SELECT balance FROM point_accounts WHERE user_id = ?),
           nextval('point_ledger_id_seq'), nextval('outbox_id_seq')
    """

  /// Locks the accounts of `users` in user order (`SQLConnection.lockInKeyOrder`;
  /// `ReservationCompletedHandler.lockShared`).
  static func lockAccounts(_ users: some Sequence<Int64>, in db: some SQLConnection) throws {
    try db.lockInKeyOrder(table: "point_accounts", column: "user_id", keys: users)
  }

  /// Creates an empty account unless one exists; true when it was created.
  static func enroll(userId: Int64, at now: Date, in db: some SQLConnection) throws -> Bool {
    try db.execute(
      "INSERT INTO point_accounts (user_id, balance, enrolled_at) VALUES (?, 0, ?) ON CONFLICT DO NOTHING",
      [userId, RFC3339Timestamp.milliseconds(of: now)]) == 1
  }

  /// The reward recorded for (user, payment), if any.
  static func reward(userId: Int64, paymentId: Int64, in db: some SQLConnection) throws -> PointReward? {
    try db.query(
      """
      SELECT id, user_id, payment_id, reservation_id, paid_amount, amount, created_at
      FROM point_ledger WHERE user_id = ? AND payment_id = ?
      """, [userId, paymentId]
    ).first.map { row in
      PointReward(
        pointId: row["id"], userId: row["user_id"], paymentId: row["payment_id"],
        reservationId: row["reservation_id"], paidAmount: row["paid_amount"], amount: row["amount"],
        createdAt: RFC3339Timestamp.date(milliseconds: row["created_at"]))
    }
  }

  /// The failure recorded for (user, payment), if any.
  static func failure(userId: Int64, paymentId: Int64, in db: some SQLConnection) throws -> RewardFailure? {
    try db.query(
      """
      SELECT id, user_id, payment_id, reservation_id, paid_amount, reason_code, reason, failed_at
      FROM reward_failures WHERE user_id = ? AND payment_id = ?
      """, [userId, paymentId]
    ).first.map { row in
      RewardFailure(
        id: row["id"], userId: row["user_id"], paymentId: row["payment_id"], reservationId: row["reservation_id"],
        paidAmount: row["paid_amount"], reasonCode: SagaError.Code(rawValue: row["reason_code"]),
        reason: row["reason"], failedAt: RFC3339Timestamp.date(milliseconds: row["failed_at"]))
    }
  }

  /// Every reward and every failure, by payment id: two scans.
  static func auditEntries(in db: some SQLConnection) throws -> [PointsAuditEntry] {
    var entries: [PointsAuditEntry] = []
    for row in try db.query("SELECT payment_id, user_id, paid_amount, amount FROM point_ledger ORDER BY payment_id, id")
    {
      entries.append(PointsAuditEntry(paymentId: row[0], userId: row[1], paidAmount: row[2], rewardedPoints: row[3]))
    }
    for row in try db.query("SELECT payment_id, user_id, paid_amount FROM reward_failures ORDER BY payment_id, id") {
      entries.append(PointsAuditEntry(paymentId: row[0], userId: row[1], paidAmount: row[2], rewardedPoints: nil))
    }
    return entries
  }

  /// Writes the ledger row and raises the balance by `amount`; the caller has checked that
  /// the account exists and that the sum fits in `Int64`.
  /// - Parameter id: the ledger row's id, drawn by `standing` (PostgreSQL): then both writes
  ///   are deferred; nil: the row takes the next id, read back now.
  static func credit(
    _ event: ReservationCompleted, amount: Int64, id: Int64? = nil, at now: Date, in db: some SQLConnection
  ) throws -> PointReward {
    let createdAt = RFC3339Timestamp.milliseconds(of: now)
    // The balance first, deferred: on PostgreSQL it rides with the ledger row's INSERT.
    try db.executeDeferred("UPDATE point_accounts SET balance = balance + ? WHERE user_id = ?", [amount, event.userId])
    let values: [any SQLBindable] = [
      event.userId, event.paymentId, event.reservationId, event.paidAmount, amount, createdAt,
    ]
    let pointId: Int64
    if let id {
      try db.executeDeferred(
        """
        INSERT INTO point_ledger (id, user_id, payment_id, reservation_id, paid_amount, amount, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        """, [id] + values)
      pointId = id
    } else {
      pointId = try db.insertReturningID(
        """
        INSERT INTO point_ledger (user_id, payment_id, reservation_id, paid_amount, amount, created_at)
        VALUES (?, ?, ?, ?, ?, ?)
        """, values)
    }
    return PointReward(
      pointId: pointId, userId: event.userId, paymentId: event.paymentId, reservationId: event.reservationId,
      paidAmount: event.paidAmount, amount: amount, createdAt: RFC3339Timestamp.date(milliseconds: createdAt))
  }

  /// Records that the reward for `event` failed for good because of `error`.
  static func recordFailure(
    _ event: ReservationCompleted, error: SagaError, at now: Date, in db: some SQLConnection
  ) throws -> RewardFailure {
    let failedAt = RFC3339Timestamp.milliseconds(of: now)
    let id = try db.insertReturningID(
      """
      INSERT INTO reward_failures
        (user_id, payment_id, reservation_id, paid_amount, reason_code, reason, failed_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)
      """,
      [
        event.userId, event.paymentId, event.reservationId, event.paidAmount, error.code.rawValue, error.message,
        failedAt,
      ])
    return RewardFailure(
      id: id, userId: event.userId, paymentId: event.paymentId,
      reservationId: event.reservationId, paidAmount: event.paidAmount, reasonCode: error.code,
      reason: error.message, failedAt: RFC3339Timestamp.date(milliseconds: failedAt))
  }

  /// Every broken invariant, one sentence each; empty when the tables agree.
  static func inconsistencies(in db: some SQLConnection) throws -> [String] {
    var problems: [String] = []
    let balances = try db.query(
      """
      SELECT a.user_id, a.balance, COALESCE(SUM(l.amount), 0) AS ledger_total, COUNT(l.id) AS rows
      FROM point_accounts a LEFT JOIN point_ledger l ON l.user_id = a.user_id
      GROUP BY a.user_id
      HAVING a.balance != COALESCE(SUM(l.amount), 0)
      ORDER BY a.user_id
      """)
    for row in balances {
      let userId: Int64 = row["user_id"]
      let balance: Int64 = row["balance"]
      let total: Int64 = row["ledger_total"]
      let rows: Int64 = row["rows"]
      problems.append("user \(userId): balance \(balance) differs from the sum \(total) of its \(rows) ledger rows")
    }
    let both = try db.query(
      """
      SELECT l.user_id, l.payment_id, l.id AS point_id, f.reason_code
      FROM point_ledger l JOIN reward_failures f ON f.user_id = l.user_id AND f.payment_id = l.payment_id
      ORDER BY l.user_id, l.payment_id
      """)
    for row in both {
      let userId: Int64 = row["user_id"]
      let paymentId: Int64 = row["payment_id"]
      let pointId: Int64 = row["point_id"]
      let code: String = row["reason_code"]
      problems.append(
        "user \(userId), payment \(paymentId): both rewarded (point \(pointId)) and failed (\(code))")
    }
    return problems
  }
}
