/// How one `SagaNode.pay` call ended, as reported to `SagaObservers.payment`
/// (`sagad_payments_total{result}`); bounded, used as a label value.
public enum PaymentObservation: String, Sendable, Hashable, CaseIterable {
  /// A new payment was committed.
  case paid
  /// The idempotency key named an existing payment; nothing changed.
  case duplicate
  /// Refused for a business reason (balance, unknown user, seat taken, invalid request…).
  case rejected
  /// The request failed on a storage or internal error.
  case failed
}
