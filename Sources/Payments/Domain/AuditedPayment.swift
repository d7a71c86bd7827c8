import SagaStorage

/// A payment as `verify` compares it with Points' records when it can see both services
/// (Docs/admin-protocol.md, `verify`): who paid how much, and how the saga stands.
public struct AuditedPayment: Sendable, Hashable, Codable {
  public var paymentId: Int64
  public var userId: Int64
  public var amount: Int64
  public var status: PaymentStatus
  /// The points Points reported (`REWARDED` only).
  public var rewardAmount: Int64?

  public init(paymentId: Int64, userId: Int64, amount: Int64, status: PaymentStatus, rewardAmount: Int64?) {
    self.paymentId = paymentId
    self.userId = userId
    self.amount = amount
    self.status = status
    self.rewardAmount = rewardAmount
  }
}

extension PaymentsService {
  /// Every payment, by id: one scan of the payments table.
  public func auditedPayments() async throws(PaymentsError) -> [AuditedPayment] {
    try await read { db in try AuditedPayment.fetchAll(in: db) }
  }
}
