/// What `PaymentsService.retryCompensation` did.
public enum CompensationRetryResult: Sendable, Hashable {
  /// The refund was made now: payment `REFUNDED`, reservation `CANCELLED`, record closed.
  case refunded(paymentId: Int64, amount: Int64, balance: Int64)
  /// The payment was refunded before (by an earlier retry, or the saga itself): nothing
  /// changed; any record still open is closed.
  case alreadyRefunded(paymentId: Int64, amount: Int64)
  /// The cause still holds (or a new one appeared): nothing refunded, the payment stays
  /// parked and the record now carries `reason`.
  case stillParked(paymentId: Int64, reason: String)

  public var paymentId: Int64 {
    switch self {
    case .refunded(let id, _, _), .alreadyRefunded(let id, _), .stillParked(let id, _): id
    }
  }

  /// `refunded`, `already-refunded` or `still-parked`, for scripts.
  public var result: String {
    switch self {
    case .refunded: "refunded"
    case .alreadyRefunded: "already-refunded"
    case .stillParked: "still-parked"
    }
  }
}
