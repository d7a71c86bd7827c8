/// Points → Payments: refund this payment and cancel its reservation (the report's
/// `CompensatePaymentEvent`). Points decides this on its own; Payments verifies it against
/// its records before refunding (unknown payment or a different amount is a
/// `CompensationFailed`, not a blind refund as in the report).
public struct CompensatePayment: SagaEvent, Hashable {
  public static let eventType = EventType.compensatePayment

  public let eventVersion: EventVersion
  public let paymentId: Int64
  public let userId: Int64
  /// KRW to refund: the paid amount; ≥ 0.
  public let refundAmount: Int64
  /// Why, for people. Nil for a Java peer's `"reason": null` (an exception without a
  /// message).
  public let reason: String?

  public init(
    paymentId: Int64, userId: Int64, refundAmount: Int64, reason: String?,
    eventVersion: EventVersion = .current
  ) {
    self.eventVersion = eventVersion
    self.paymentId = paymentId
    self.userId = userId
    self.refundAmount = refundAmount
    self.reason = reason
  }

  public var messageKey: String { String(paymentId) }

  private enum CodingKeys: String, CodingKey {
    case eventVersion, paymentId, userId, refundAmount, reason
  }

  public init(from decoder: any Decoder) throws {
    let body = try EventFieldReader(decoder, keyedBy: CodingKeys.self, event: Self.eventType)
    eventVersion = try body.version(.eventVersion)
    paymentId = try body.id(.paymentId)
    userId = try body.id(.userId)
    refundAmount = try body.amount(.refundAmount)
    reason = try body.nullableText(.reason)
  }

  public func encode(to encoder: any Encoder) throws {
    var body = encoder.container(keyedBy: CodingKeys.self)
    try body.encode(EventVersion.current, forKey: .eventVersion)
    try body.encode(paymentId, forKey: .paymentId)
    try body.encode(userId, forKey: .userId)
    try body.encode(refundAmount, forKey: .refundAmount)
    // Null is written, not left out, as Jackson writes it: a peer may require the field.
    if let reason { try body.encode(reason, forKey: .reason) } else { try body.encodeNil(forKey: .reason) }
  }
}
