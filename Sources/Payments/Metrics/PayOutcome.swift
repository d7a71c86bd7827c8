/// How one `PaymentsService.pay` call ended: the `result` label of `sagad_payments_total`
/// (Docs/metrics.md); bounded, used as a label value.
public enum PayOutcome: String, Sendable, Hashable, CaseIterable {
  /// A new payment was committed.
  case paid
  /// The idempotency key named an existing payment; nothing changed.
  case duplicate
  /// Refused for a business reason (balance, unknown user, seat taken, invalid request…).
  case rejected
  /// The request failed on a storage or internal error.
  case failed
}
