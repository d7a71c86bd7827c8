/// Payments → Points: a payment and its reservation are committed (the report's
/// `ReservationCompletedKafkaEvent`). Points rewards `paidAmount` under the reward rule.
public struct ReservationCompleted: SagaEvent, Hashable {
  public static let eventType = EventType.reservationCompleted

  public let eventVersion: EventVersion
  public let paymentId: Int64
  public let userId: Int64
  public let reservationId: Int64
  /// KRW actually paid; ≥ 0.
  public let paidAmount: Int64

  public init(
    paymentId: Int64, userId: Int64, reservationId: Int64, paidAmount: Int64,
    eventVersion: EventVersion = .current
  ) {
    self.eventVersion = eventVersion
    self.paymentId = paymentId
    self.userId = userId
    self.reservationId = reservationId
    self.paidAmount = paidAmount
  }

  public var messageKey: String { String(paymentId) }

  private enum CodingKeys: String, CodingKey {
    case eventVersion, paymentId, userId, reservationId, paidAmount
  }

  /// Validates while decoding: the version first (a newer major may have other fields),
  /// then each field; errors are `SagaError`s naming the field.
  public init(from decoder: any Decoder) throws {
    let body = try EventFieldReader(decoder, keyedBy: CodingKeys.self, event: Self.eventType)
    eventVersion = try body.version(.eventVersion)
    paymentId = try body.id(.paymentId)
    userId = try body.id(.userId)
    reservationId = try body.id(.reservationId)
    paidAmount = try body.amount(.paidAmount)
  }

  public func encode(to encoder: any Encoder) throws {
    var body = encoder.container(keyedBy: CodingKeys.self)
    try body.encode(EventVersion.current, forKey: .eventVersion)
    try body.encode(paymentId, forKey: .paymentId)
    try body.encode(userId, forKey: .userId)
    try body.encode(reservationId, forKey: .reservationId)
    try body.encode(paidAmount, forKey: .paidAmount)
  }
}
