/// Points → Payments: the reward is credited (the report's `PointRewardCompletedEvent`).
/// The report's service sends no `paymentId`; Payments then correlates by `reservationId`,
/// which is also the message key in that case.
public struct PointRewardCompleted: SagaEvent, Hashable {
  public static let eventType = EventType.pointRewardCompleted

  public let eventVersion: EventVersion
  /// The point ledger row that holds the reward.
  public let pointId: Int64
  public let userId: Int64
  /// KRW credited; ≥ 0 (a reward of 0 is a success).
  public let rewardedAmount: Int64
  public let reservationId: Int64
  /// Set by sagad; nil in events from the report's Spring service.
  public let paymentId: Int64?

  public init(
    pointId: Int64, userId: Int64, rewardedAmount: Int64, reservationId: Int64, paymentId: Int64?,
    eventVersion: EventVersion = .current
  ) {
    self.eventVersion = eventVersion
    self.pointId = pointId
    self.userId = userId
    self.rewardedAmount = rewardedAmount
    self.reservationId = reservationId
    self.paymentId = paymentId
  }

  /// The `paymentId`, or the `reservationId` when the sender did not know the payment.
  public var messageKey: String { String(paymentId ?? reservationId) }

  private enum CodingKeys: String, CodingKey {
    case eventVersion, pointId, userId, rewardedAmount, reservationId, paymentId
  }

  public init(from decoder: any Decoder) throws {
    let body = try EventFieldReader(decoder, keyedBy: CodingKeys.self, event: Self.eventType)
    eventVersion = try body.version(.eventVersion)
    pointId = try body.id(.pointId)
    userId = try body.id(.userId)
    rewardedAmount = try body.amount(.rewardedAmount)
    reservationId = try body.id(.reservationId)
    paymentId = try body.optionalID(.paymentId)
  }

  /// Omits `paymentId` when nil rather than writing null, as the report's service does.
  public func encode(to encoder: any Encoder) throws {
    var body = encoder.container(keyedBy: CodingKeys.self)
    try body.encode(EventVersion.current, forKey: .eventVersion)
    try body.encode(pointId, forKey: .pointId)
    try body.encode(userId, forKey: .userId)
    try body.encode(rewardedAmount, forKey: .rewardedAmount)
    try body.encode(reservationId, forKey: .reservationId)
    try body.encodeIfPresent(paymentId, forKey: .paymentId)
  }
}
