/// How the Payments service answered one `compensate-payment` message; `PaymentsMetrics`
/// counts it (`compensate_payment_total{result}`, Docs/metrics.md).
public enum CompensationOutcome: Sendable, Hashable {
  /// The paid amount went back to the wallet; the payment is `REFUNDED`.
  case refunded(paymentId: Int64, amount: Int64)
  /// The compensation was already decided (refunded or parked); nothing changed.
  case duplicate(paymentId: Int64)
  /// The compensation could not be applied and is parked for an operator; `reason`
  /// starts with the code (`unknown-payment`, `amount-mismatch`, `already-rewarded`, …).
  case failed(paymentId: Int64, reason: String)

  /// The `result` label: `refunded`, `duplicate` or `failed`.
  public var result: String {
    switch self {
    case .refunded: "refunded"
    case .duplicate: "duplicate"
    case .failed: "failed"
    }
  }
}
