/// A payment whose saga ended in `REWARDED` or `REFUNDED`, as `verify` compares it with
/// Points' ledger when one sagad hosts both roles.
public struct SettledPayment: Sendable, Hashable {
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
  /// Every `REWARDED` and `REFUNDED` payment, by id: one scan of the payments table.
  public func settledPayments() async throws(PaymentsError) -> [SettledPayment] {
    try await read { db in try SettledPayment.fetchAll(in: db) }
  }
}
