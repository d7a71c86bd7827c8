/// The answer to `pay`: the payment that holds the (user, schedule) key, and whether this
/// call created it or found it (`duplicate`: nothing was charged or announced this time).
public struct PayResult: Sendable, Hashable {
  public var paymentId: Int64
  public var reservationId: Int64
  public var amount: Int64
  /// `PAID` for a new payment; a duplicate reports wherever the saga has got to since.
  public var status: PaymentStatus
  public var duplicate: Bool
  /// The saga's correlation id (its trace id), for finding it in logs and messages.
  public var correlationId: String

  public init(
    paymentId: Int64, reservationId: Int64, amount: Int64, status: PaymentStatus, duplicate: Bool,
    correlationId: String
  ) {
    self.paymentId = paymentId
    self.reservationId = reservationId
    self.amount = amount
    self.status = status
    self.duplicate = duplicate
    self.correlationId = correlationId
  }
}
