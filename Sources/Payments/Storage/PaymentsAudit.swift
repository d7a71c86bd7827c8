import SagaStorage

/// The money invariants of the Payments database, checked by `PaymentsService.verify()`
/// (tests, `sagactl verify`, after a crash drill). Each check is one query returning one
/// human-readable line per violation, so an empty result proves the whole database, not
/// a sample, and a failure names the user or payment to look at.
enum PaymentsAudit {
  private static let checks: [String] = [
    // The wallet is the sum of its ledger: nothing may change one without the other.
    """
    SELECT 'user ' || w.user_id || ': balance ' || w.balance || ' KRW but ledger sums to '
           || COALESCE(SUM(l.amount), 0) || ' KRW'
    FROM wallets w LEFT JOIN wallet_ledger l ON l.user_id = w.user_id
    GROUP BY w.user_id, w.balance HAVING w.balance <> COALESCE(SUM(l.amount), 0)
    """,
    """
    SELECT 'user ' || user_id || ': negative balance ' || balance || ' KRW' FROM wallets WHERE balance < 0
    """,
    """
    SELECT 'ledger row ' || l.id || ': user ' || l.user_id || ' has no wallet'
    FROM wallet_ledger l LEFT JOIN wallets w ON w.user_id = l.user_id WHERE w.user_id IS NULL
    """,
    // Every payment was debited exactly once, by its amount.
    """
    SELECT 'payment ' || p.id || ': debited ' || COALESCE(-SUM(l.amount), 0) || ' KRW in '
           || COUNT(l.id) || ' ledger rows, amount is ' || p.amount || ' KRW'
    FROM payments p LEFT JOIN wallet_ledger l ON l.payment_id = p.id AND l.kind = 'payment'
    GROUP BY p.id, p.amount HAVING COUNT(l.id) <> 1 OR -SUM(l.amount) <> p.amount
    """,
    // A REFUNDED payment has exactly one refund of its amount, in the refunds table and
    // in the ledger; no other payment has any.
    """
    SELECT 'payment ' || p.id || ' (' || p.status || '): ' || COUNT(f.id) || ' refund rows'
    FROM payments p LEFT JOIN refunds f ON f.payment_id = p.id
    GROUP BY p.id, p.status HAVING COUNT(f.id) <> (CASE WHEN p.status = 'REFUNDED' THEN 1 ELSE 0 END)
    """,
    """
    SELECT 'payment ' || p.id || ' (' || p.status || '): ' || COUNT(l.id) || ' refund ledger rows summing to '
           || COALESCE(SUM(l.amount), 0) || ' KRW, amount is ' || p.amount || ' KRW'
    FROM payments p LEFT JOIN wallet_ledger l ON l.payment_id = p.id AND l.kind = 'refund'
    GROUP BY p.id, p.status, p.amount
    HAVING COUNT(l.id) <> (CASE WHEN p.status = 'REFUNDED' THEN 1 ELSE 0 END)
        OR (COUNT(l.id) = 1 AND SUM(l.amount) <> p.amount)
    """,
    """
    SELECT 'refund ' || f.id || ': ' || f.amount || ' KRW for payment ' || f.payment_id || ' of '
           || p.amount || ' KRW'
    FROM refunds f JOIN payments p ON p.id = f.payment_id WHERE f.amount <> p.amount
    """,
    // A refund cancels the reservation in the same transaction; nothing else cancels one.
    """
    SELECT 'payment ' || p.id || ' (' || p.status || '): reservation ' || r.id || ' is ' || r.status
    FROM payments p JOIN reservations r ON r.id = p.reservation_id
    WHERE (p.status = 'REFUNDED') <> (r.status = 'CANCELLED')
    """,
    """
    SELECT 'payment ' || p.id || ': reservation ' || p.reservation_id || ' belongs to user ' || r.user_id
           || ', schedule ' || r.schedule_id || ', not user ' || p.user_id || ', schedule ' || p.schedule_id
    FROM payments p JOIN reservations r ON r.id = p.reservation_id
    WHERE r.user_id <> p.user_id OR r.schedule_id <> p.schedule_id
    """,
    """
    SELECT 'payment ' || id || ': REWARDED without a reward amount' FROM payments
    WHERE status = 'REWARDED' AND reward_amount IS NULL
    """,
  ]

  static func violations(in db: some SQLConnection) throws -> [String] {
    try checks.flatMap { sql in try db.query(sql).map { try $0.decode(0, as: String.self) } }
  }
}
