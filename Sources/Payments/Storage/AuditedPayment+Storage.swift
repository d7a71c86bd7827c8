import SagaStorage

/// The SQL behind `PaymentsService.auditedPayments()`.
extension AuditedPayment {
  /// Every payment, by id: one scan of the payments table.
  static func fetchAll(in db: some SQLConnection) throws -> [AuditedPayment] {
    var payments: [AuditedPayment] = []
    for row in try db.query("SELECT id, user_id, amount, status, reward_amount FROM payments ORDER BY id") {
      let raw: String = row[3]
      guard let status = PaymentStatus(rawValue: raw) else {
        throw PaymentsError(.internalError, "payment \(row[0] as Int64) has an unknown status '\(raw)'")
      }
      payments.append(
        AuditedPayment(paymentId: row[0], userId: row[1], amount: row[2], status: status, rewardAmount: row[4]))
    }
    return payments
  }
}
