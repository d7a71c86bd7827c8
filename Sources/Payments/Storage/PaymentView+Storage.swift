import Foundation
import SagaCore
import SagaStorage

/// The SQL behind `PaymentView`: the payments, their reservations and refunds, read and
/// written inside the caller's transaction (the consume loop's or the service's).
extension PaymentView {
  private static let select = """
    SELECT p.id, p.user_id, p.reservation_id, p.schedule_id, r.seat, p.amount, p.status,
           r.status AS reservation_status, p.reward_amount, p.point_id, p.failure_reason,
           f.amount AS refunded_amount, p.trace_id, p.correlation_id, p.created_at, p.updated_at
    FROM payments p
    JOIN reservations r ON r.id = p.reservation_id
    LEFT JOIN refunds f ON f.payment_id = p.id
    """

  // The lookups run for every pay and every saga event: their statements are cached on
  // the connection rather than parsed again each time.
  private static let byId = select + " WHERE p.id = ?"
  private static let byReservation = select + " WHERE p.reservation_id = ?"
  private static let byKey = select + " WHERE p.user_id = ? AND p.schedule_id = ?"
  private static let byRange = select + " WHERE p.id BETWEEN ? AND ? ORDER BY p.id"
  // One index lookup per id, in the order given (ascending: the locks are taken in id
  // order): a join over the array would let the planner hash the whole reservations table.
  private static let byIds = idsLookup(lock: " FOR UPDATE OF p")
  /// For a read whose locks would end with it (`SQLConnection.keepsLocks`).
  private static let byIdsUnlocked = idsLookup(lock: "")

  private static func idsLookup(lock: String) -> String {
    "SELECT x.* FROM unnest(CAST(? AS BIGINT[])) WITH ORDINALITY AS i(id, ord) CROSS JOIN LATERAL ("
      + select + " WHERE p.id = i.id LIMIT 1\(lock)) AS x ORDER BY i.ord"
  }

  /// The payment with id `paymentId`, if any. `forUpdate` (every caller inside a write
  /// transaction): on PostgreSQL the payment's row stays locked until the transaction ends,
  /// so two transactions that decide from its status (a compensation and the tracker, on two
  /// workers or two instances) take turns instead of overwriting each other's outcome. SQLite
  /// has one writer at a time, which already serialises them.
  /// - Parameter besideHeldWrites: no write held on the connection touches this payment's
  ///   rows (no earlier record of the batch was its), so they may ride with the read.
  static func fetch(
    id paymentId: Int64, forUpdate: Bool = true, besideHeldWrites: Bool = false, in db: some SQLConnection
  ) throws -> PaymentView? {
    let sql = byId + lock(forUpdate, db)
    let rows = try besideHeldWrites ? db.queryBesideDeferred(sql, [paymentId]) : db.query(sql, [paymentId])
    return try rows.first.map(decode)
  }

  /// The payments `ids` names, locked as `fetch(id:)` locks them (where a lock lasts beyond the
  /// read), taken in id order, by id: a
  /// tracker batch's reads in one statement on PostgreSQL (one round trip instead of one per
  /// record); nil on SQLite, where a statement costs no round trip.
  static func fetchLocked(ids: [Int64], in db: some SQLConnection) throws -> [Int64: PaymentView]? {
    guard db.engine == .postgres else { return nil }
    guard !ids.isEmpty else { return [:] }
    let payments = try db.query(db.keepsLocks ? byIds : byIdsUnlocked, [Set(ids).sorted().bigintArrayLiteral])
      .map(decode)
    return Dictionary(payments.map { ($0.paymentId, $0) }, uniquingKeysWith: { first, _ in first })
  }

  /// The payment of reservation `reservationId` (one per reservation), if any; `forUpdate` as
  /// in `fetch(id:)`.
  static func fetch(reservationId: Int64, forUpdate: Bool = true, in db: some SQLConnection) throws -> PaymentView? {
    try db.query(byReservation + lock(forUpdate, db), [reservationId]).first.map(decode)
  }

  private static func lock(_ forUpdate: Bool, _ db: some SQLConnection) -> String {
    forUpdate && db.engine == .postgres ? " FOR UPDATE OF p" : ""
  }

  /// The payments whose ids lie in `ids`, in id order (reads only, no lock).
  static func fetchAll(ids: ClosedRange<Int64>, in db: some SQLConnection) throws -> [PaymentView] {
    try db.query(byRange, [ids.lowerBound, ids.upperBound]).map(decode)
  }

  /// The payment holding the idempotency key (userId, scheduleId), if any.
  static func fetch(userId: Int64, scheduleId: Int64, in db: some SQLConnection) throws -> PaymentView? {
    try db.query(byKey, [userId, scheduleId]).first.map(decode)
  }

  /// Whether `seat` of `scheduleId` is held by a reservation (a cancelled one frees it).
  static func isSeatReserved(_ seat: String, scheduleId: Int64, in db: some SQLConnection) throws -> Bool {
    try db.value(
      Bool.self,
      "SELECT EXISTS (SELECT 1 FROM reservations WHERE schedule_id = ? AND seat = ? AND status = 'RESERVED')",
      [scheduleId, seat]) ?? false
  }

  /// Writes the reservation and the `PAID` payment of `request`, the payment under
  /// `envelope`'s trace and correlation id. Returns their ids.
  /// - Parameter ids: ids drawn beforehand (PostgreSQL, `Wallet.payStanding`): then both
  ///   inserts are deferred, riding with the connection's next statement; else the rows take
  ///   the next ids and the inserts run now.
  static func insert(
    _ request: PayRequest, envelope: EventEnvelope, at now: Date, ids: (reservation: Int64, payment: Int64)? = nil,
    in db: some SQLConnection
  ) throws -> (reservationId: Int64, paymentId: Int64) {
    let millis = now.paymentsMilliseconds
    let reservation: [any SQLBindable] = [
      request.userId, request.scheduleId, request.seat, ReservationStatus.reserved.rawValue, millis, millis,
    ]
    func payment(_ reservationId: Int64) -> [any SQLBindable] {
      [
        request.userId, reservationId, request.scheduleId, request.amount, PaymentStatus.paid.rawValue,
        envelope.trace.traceId, envelope.trace.traceparent, envelope.correlationId, millis, millis,
      ]
    }
    if let ids {
      try db.executeDeferred(insertReservationWithID, [ids.reservation] + reservation)
      try db.executeDeferred(insertPaymentWithID, [ids.payment] + payment(ids.reservation))
      return (ids.reservation, ids.payment)
    }
    let reservationId = try db.insertReturningID(insertReservation, reservation)
    let paymentId = try db.insertReturningID(insertPayment, payment(reservationId))
    return (reservationId, paymentId)
  }

  // Built once: every pay runs two of them, and the connections cache per text.
  private static let reservationColumns = "user_id, schedule_id, seat, status, created_at, updated_at"
  private static let paymentColumns = """
    user_id, reservation_id, schedule_id, amount, status, trace_id, traceparent, correlation_id, created_at, updated_at
    """
  private static let insertReservation = "INSERT INTO reservations (\(reservationColumns)) VALUES (?, ?, ?, ?, ?, ?)"
  private static let insertPayment = "INSERT INTO payments (\(paymentColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
  private static let insertReservationWithID =
    "INSERT INTO reservations (id, \(reservationColumns)) VALUES (?, ?, ?, ?, ?, ?, ?)"
  private static let insertPaymentWithID =
    "INSERT INTO payments (id, \(paymentColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

  /// Moves the payment from `PAID`, the status it was read in, to `REWARDED` with what Points
  /// reported. Only over `PAID`: a payment another transaction moved since the read (a batch
  /// written as one statement takes no lock) becomes `STALE`, which the status's `CHECK`
  /// refuses, and the whole statement with it.
  static func setRewarded(
    paymentId: Int64, rewardAmount: Int64, pointId: Int64, at now: Date, in db: some SQLConnection
  ) throws {
    try db.executeDeferred(
      """
      UPDATE payments SET status = CASE WHEN status = ? THEN ? ELSE 'STALE' END, reward_amount = ?, point_id = ?,
      updated_at = ? WHERE id = ?
      """,
      [
        PaymentStatus.paid.rawValue, PaymentStatus.rewarded.rawValue, rewardAmount, pointId,
        now.paymentsMilliseconds, paymentId,
      ])
  }

  /// Records the refund of `payment` (the `refunds` row, unique per payment), moves it to
  /// `REFUNDED` and cancels its reservation. The wallet is `Wallet.post`'s business.
  static func recordRefund(of payment: PaymentView, reason: String?, at now: Date, in db: some SQLConnection) throws {
    let millis = now.paymentsMilliseconds
    try db.execute(
      "INSERT INTO refunds (payment_id, amount, reason, created_at) VALUES (?, ?, ?, ?)",
      [payment.paymentId, payment.amount, reason, millis])
    try setStatus(.refunded, paymentId: payment.paymentId, at: now, in: db)
    try db.execute(
      "UPDATE reservations SET status = ?, updated_at = ? WHERE id = ?",
      [ReservationStatus.cancelled.rawValue, millis, payment.reservationId])
  }

  /// Moves the payment to `status`, stamping `updated_at`.
  static func setStatus(
    _ status: PaymentStatus, paymentId: Int64, failureReason: String? = nil, at now: Date, in db: some SQLConnection
  ) throws {
    try db.execute(
      """
      UPDATE payments SET status = ?, failure_reason = COALESCE(?, failure_reason), updated_at = ?
      WHERE id = ?
      """, [status.rawValue, failureReason, now.paymentsMilliseconds, paymentId])
  }

  /// Reads the columns by position, in the order of `select`: by name, GRDB compares
  /// each name case-insensitively against every column (lowercasing both), which cost
  /// more than the query on the saga's hot path.
  private static func decode(_ row: SQLRow) throws -> PaymentView {
    let id: Int64 = row[0]
    // The CHECK constraints admit only known values; a stranger means the file was
    // edited by hand, which an operator needs to hear about rather than a default.
    guard let status = PaymentStatus(rawValue: row[6]), let reservationStatus = ReservationStatus(rawValue: row[7])
    else {
      throw PaymentsError(
        .internalError, "payment \(id) has an unknown status \(String(describing: row[6] as String?))")
    }
    return PaymentView(
      paymentId: id, userId: row[1], reservationId: row[2], scheduleId: row[3], seat: row[4], amount: row[5],
      status: status, reservationStatus: reservationStatus, rewardAmount: row[8], pointId: row[9],
      failureReason: row[10], refundedAmount: row[11], traceId: row[12], correlationId: row[13],
      createdAt: Date(paymentsMilliseconds: row[14]), updatedAt: Date(paymentsMilliseconds: row[15]))
  }
}
