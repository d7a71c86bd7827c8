/// The five saga events and, in one place, the catalog that ties each to its topic, its
/// producing service and its consumer group (Docs/event-catalog.md; the report's weakness "low
/// visibility" asked for exactly this). Raw values are the `eventType` header values.
///
/// | event | topic | produced by | consumed by (group) |
/// |---|---|---|---|
/// | `ReservationCompleted` | `reservation-completed` | payments | `points-service` |
/// | `PointRewardCompleted` | `point-reward-completed` | points | `payments-saga-tracker` |
/// | `PointRewardFailed` | `point-reward-failed` | points | `payments-saga-tracker` |
/// | `CompensatePayment` | `compensate-payment` | points | `payment-compensation-service` |
/// | `CompensationFailed` | `compensation-failed` | payments | operators / alerting |
public enum EventType: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
  case reservationCompleted = "ReservationCompleted"
  case pointRewardCompleted = "PointRewardCompleted"
  case pointRewardFailed = "PointRewardFailed"
  case compensatePayment = "CompensatePayment"
  case compensationFailed = "CompensationFailed"

  /// The event carried by a saga topic: each topic carries exactly one event type.
  public init(topic: SagaTopic) {
    switch topic {
    case .reservationCompleted: self = .reservationCompleted
    case .pointRewardCompleted: self = .pointRewardCompleted
    case .pointRewardFailed: self = .pointRewardFailed
    case .compensatePayment: self = .compensatePayment
    case .compensationFailed: self = .compensationFailed
    }
  }

  /// The topic this event is published to.
  public var topic: SagaTopic {
    switch self {
    case .reservationCompleted: .reservationCompleted
    case .pointRewardCompleted: .pointRewardCompleted
    case .pointRewardFailed: .pointRewardFailed
    case .compensatePayment: .compensatePayment
    case .compensationFailed: .compensationFailed
    }
  }

  /// The service that writes this event to its outbox.
  public var producer: SagaService {
    switch self {
    case .reservationCompleted, .compensationFailed: .payments
    case .pointRewardCompleted, .pointRewardFailed, .compensatePayment: .points
    }
  }

  /// The group that consumes it; nil for `CompensationFailed`, which is for operators.
  public var consumerGroup: SagaConsumerGroup? { topic.consumerGroup }

  /// The Swift type that models the body.
  public var eventClass: any SagaEvent.Type {
    switch self {
    case .reservationCompleted: ReservationCompleted.self
    case .pointRewardCompleted: PointRewardCompleted.self
    case .pointRewardFailed: PointRewardFailed.self
    case .compensatePayment: CompensatePayment.self
    case .compensationFailed: CompensationFailed.self
    }
  }

  /// The body's JSON fields in the report's order (`eventVersion` first, as its proposal
  /// adds it). `PointRewardCompleted.paymentId` is optional: the report's service omits it.
  public var fieldNames: [String] {
    switch self {
    case .reservationCompleted: ["eventVersion", "paymentId", "userId", "reservationId", "paidAmount"]
    case .pointRewardCompleted:
      ["eventVersion", "pointId", "userId", "rewardedAmount", "reservationId", "paymentId"]
    case .pointRewardFailed: ["eventVersion", "userId", "paymentId", "reservationId", "reason"]
    case .compensatePayment: ["eventVersion", "paymentId", "userId", "refundAmount", "reason"]
    case .compensationFailed: ["eventVersion", "paymentId", "userId", "refundAmount", "reason"]
    }
  }

  public var description: String { rawValue }
}
