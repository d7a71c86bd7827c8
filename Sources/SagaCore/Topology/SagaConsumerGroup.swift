/// The Kafka consumer groups (Docs/event-catalog.md). The names match the report's Spring
/// services, so sagad can take over a group's committed offsets from them.
public enum SagaConsumerGroup: String, CaseIterable, Sendable, Codable {
  /// Points, reading `reservation-completed`.
  case pointsService = "points-service"
  /// Payments, reading `point-reward-completed` and `point-reward-failed`.
  case paymentsSagaTracker = "payments-saga-tracker"
  /// Payments, reading `compensate-payment`.
  case paymentCompensationService = "payment-compensation-service"
  /// The DLT worker for `reservation-completed.DLT`.
  case pointsServiceDeadLetters = "points-service-dlt"
  /// The DLT worker for every other `.DLT` topic.
  case sagadDeadLetters = "sagad-dlt"

  /// The service whose sagad joins this group.
  public var service: SagaService {
    switch self {
    case .pointsService, .pointsServiceDeadLetters: .points
    case .paymentsSagaTracker, .paymentCompensationService, .sagadDeadLetters: .payments
    }
  }

  /// The topics this group subscribes to.
  public var topics: [String] {
    switch self {
    case .pointsServiceDeadLetters: [SagaTopic.reservationCompleted.deadLetterTopic]
    case .sagadDeadLetters:
      SagaTopic.allCases.filter { $0.deadLetterGroup == self }.map(\.deadLetterTopic)
    default: SagaTopic.allCases.filter { $0.consumerGroup == self }.map(\.rawValue)
    }
  }
}
