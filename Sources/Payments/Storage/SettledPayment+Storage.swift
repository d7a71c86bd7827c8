import GRDB

/// The SQL behind `PaymentsService.settledPayments()`.
extension SettledPayment {
  /// Every `REWARDED` and `REFUNDED` payment, by id: one scan of the payments table.
  static func fetchAll(in db: Database) throws -> [SettledPayment] {
    var settled: [SettledPayment] = []
    let rows = try Row.fetchCursor(
      db,
      sql: """
        SELECT id, user_id, amount, status, reward_amount FROM payments
        WHERE status IN ('REWARDED', 'REFUNDED') ORDER BY id
        """)
    while let row = try rows.next() {
      let raw: String = row[3]
      let status: PaymentStatus = raw == PaymentStatus.rewarded.rawValue ? .rewarded : .refunded
      settled.append(
        SettledPayment(paymentId: row[0], userId: row[1], amount: row[2], status: status, rewardAmount: row[4]))
    }
    return settled
  }
}
