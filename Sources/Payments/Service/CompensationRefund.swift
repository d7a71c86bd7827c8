import Foundation
import SagaCore
import SagaStorage

/// The refund a compensation asks for, and what may stand in its way: shared by the
/// consumer of `compensate-payment` and `PaymentsService.retryCompensation`, so an
/// operator's retry applies exactly the rules the saga does.
enum CompensationRefund {
  static let userMismatch: SagaError.Code = "user-mismatch"
  /// The refund failed transiently on every attempt the retry policy allowed.
  static let retriesExhausted: SagaError.Code = "retries-exhausted"

  /// Why a refund of `refundAmount` to `userId` for `payment` must not be made, or nil
  /// when it may. The payment's status is the caller's business; this looks at what the
  /// refund would contradict: no payment, a reward already credited, another user or amount.
  static func obstacle(
    paymentId: Int64, userId: Int64, refundAmount: Int64, payment: PaymentView?
  ) -> SagaError? {
    guard let payment else {
      return SagaError(.unknownPayment, "compensation for payment \(paymentId): no such payment")
    }
    if payment.status == .rewarded || payment.rewardAmount != nil {
      return SagaError(
        .alreadyRewarded,
        "payment \(payment.paymentId) was REWARDED (\(payment.rewardAmount ?? 0) points credited); refunding it"
          + " would leave the reward in place")
    }
    if userId != payment.userId {
      return SagaError(
        userMismatch,
        "compensation names user \(userId), payment \(payment.paymentId) belongs to user \(payment.userId)")
    }
    if refundAmount != payment.amount {
      return SagaError(
        .amountMismatch,
        "compensation asks \(refundAmount) KRW, payment \(payment.paymentId) paid \(payment.amount) KRW")
    }
    return nil
  }

  /// Refunds `payment` in a savepoint of the caller's transaction: the `payments.refund`
  /// failpoint, then the `refund` ledger row and wallet, the `refunds` row (unique per
  /// payment), payment `REFUNDED`, reservation `CANCELLED`. Returns the new wallet balance.
  /// On any error nothing of it remains, so the caller can park the payment instead.
  /// - Throws: the failpoint's error; a transient `SagaError` for busy or failing storage;
  ///   a permanent one for anything else (a missing wallet, an overflow, a constraint).
  static func apply(
    _ payment: PaymentView, reason: String?, failpoints: Failpoints, at now: Date, in db: some SQLConnection
  ) throws(SagaError) -> Int64 {
    var balance: Int64 = 0
    do {
      try db.savepoint {
        try failpoints.hit(.paymentsRefund)
        balance = try Wallet.post(
          .refund, userId: payment.userId, amount: payment.amount, paymentId: payment.paymentId, at: now, in: db)
        try PaymentView.recordRefund(of: payment, reason: reason, at: now, in: db)
        return .commit
      }
    } catch let error as PaymentsError {
      throw SagaError(
        error.isRetriable ? .storageIO : .internalError, error.description,
        failureClass: error.isRetriable ? .transient : .permanent)
    } catch {
      throw SagaError.storage(error)
    }
    return balance
  }

  /// The reason a failed refund parks the payment with: the error's code, what failed.
  static func failure(_ error: SagaError, refunding payment: PaymentView) -> SagaError {
    SagaError(
      error.code, "refund of \(payment.amount) KRW for payment \(payment.paymentId) failed: \(error.message)",
      failureClass: .permanent)
  }
}
