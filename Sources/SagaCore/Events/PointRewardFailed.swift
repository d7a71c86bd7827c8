/// Points → Payments: the reward failed for good (the report's `PointRewardFailedEvent`).
/// Written once, in the same transaction as the `CompensatePayment` that follows it.
public struct PointRewardFailed: SagaEvent, Hashable {
  public static let eventType = EventType.pointRewardFailed

  public let eventVersion: EventVersion
  public let userId: Int64
  public let paymentId: Int64
  public let reservationId: Int64
  /// Why, for people: usually a `SagaError` description such as `user-not-enrolled: …`.
  /// Nil for a Java peer's `"reason": null` (an exception without a message).
  public let reason: String?

  public init(
    userId: Int64, paymentId: Int64, reservationId: Int64, reason: String?,
    eventVersion: EventVersion = .current
  ) {
    self.eventVersion = eventVersion
    self.userId = userId
    self.paymentId = paymentId
    self.reservationId = reservationId
    self.reason = reason
  }

  public var messageKey: String { String(paymentId) }

  private enum CodingKeys: String, CodingKey {
    case eventVersion, userId, paymentId, reservationId, reason
  }

  public init(from decoder: any Decoder) throws {
    let body = try EventFieldReader(decoder, keyedBy: CodingKeys.self, event: Self.eventType)
    eventVersion = try body.version(.eventVersion)
    userId = try body.id(.userId)
    paymentId = try body.id(.paymentId)
    reservationId = try body.id(.reservationId)
    reason = try body.nullableText(.reason)
  }

  public func encode(to encoder: any Encoder) throws {
    var body = encoder.container(keyedBy: CodingKeys.self)
    try body.encode(EventVersion.current, forKey: .eventVersion)
    try body.encode(userId, forKey: .userId)
    try body.encode(paymentId, forKey: .paymentId)
    try body.encode(reservationId, forKey: .reservationId)
    // Null is written, not left out, as Jackson writes it: a peer may require the field.
    if let reason { try body.encode(reason, forKey: .reason) } else { try body.encodeNil(forKey: .reason) }
  }
}
