/// The saga's Kafka topics (Docs/event-catalog.md). The names are the wire contract with the
/// report's Spring services: never rename a case's raw value.
public enum SagaTopic: String, CaseIterable, Sendable, Codable {
  case reservationCompleted = "reservation-completed"
  case pointRewardCompleted = "point-reward-completed"
  case pointRewardFailed = "point-reward-failed"
  case compensatePayment = "compensate-payment"
  case compensationFailed = "compensation-failed"

  /// The suffix Spring's DeadLetterPublishingRecoverer appends by default.
  public static let deadLetterSuffix = ".DLT"

  /// Where a message of this topic goes when it cannot be processed: `<topic>.DLT`.
  public var deadLetterTopic: String { rawValue + Self.deadLetterSuffix }

  /// The group that consumes this topic, or nil for `compensation-failed`, which is
  /// read by operators and alerting rather than by a saga service.
  public var consumerGroup: SagaConsumerGroup? {
    switch self {
    case .reservationCompleted: .pointsService
    case .pointRewardCompleted, .pointRewardFailed: .paymentsSagaTracker
    case .compensatePayment: .paymentCompensationService
    case .compensationFailed: nil
    }
  }

  /// The group of the DLT worker that reads `deadLetterTopic`.
  public var deadLetterGroup: SagaConsumerGroup {
    self == .reservationCompleted ? .pointsServiceDeadLetters : .sagadDeadLetters
  }

  /// The saga topic whose dead-letter topic is `name`, e.g. `reservation-completed.DLT`.
  public init?(deadLetterTopic name: String) {
    guard name.hasSuffix(Self.deadLetterSuffix) else { return nil }
    self.init(rawValue: String(name.dropLast(Self.deadLetterSuffix.count)))
  }
}

/// Every topic sagad needs to exist, for topic creation and checks.
public enum TopicCatalog {
  /// The saga topics, in the order the saga uses them.
  public static let sagaTopics: [String] = SagaTopic.allCases.map(\.rawValue)
  /// `<topic>.DLT` of every saga topic.
  public static let deadLetterTopics: [String] = SagaTopic.allCases.map(\.deadLetterTopic)
  /// Saga topics followed by their dead-letter topics.
  public static let allTopics: [String] = sagaTopics + deadLetterTopics
  /// Every consumer group sagad joins.
  public static let consumerGroups: [String] = SagaConsumerGroup.allCases.map(\.rawValue)
}
