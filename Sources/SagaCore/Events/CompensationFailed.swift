/// Payments → operators: a compensation could not be applied (unknown payment, amount
/// mismatch, payment already rewarded). The payment is parked `COMPENSATION_FAILED` and an
/// alert fires; the report's version of this failure was silent.
public struct CompensationFailed: SagaEvent, Hashable {
  public static let eventType = EventType.compensationFailed

  public let eventVersion: EventVersion
  public let paymentId: Int64
  public let userId: Int64
  /// The refund that was asked for and not made; ≥ 0.
  public let refundAmount: Int64
  /// Why, for people: usually a `SagaError` description such as `amount-mismatch: …`.
  /// sagad always gives one; nil reads a `"reason": null` as the other events do.
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
