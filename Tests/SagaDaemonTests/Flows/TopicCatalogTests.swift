import SagaCore
import SagaTestSupport
import Testing

/// The topic and group names are a wire contract with the report's Spring services
/// (Docs/event-catalog.md): spelled out here once more, so a rename cannot slip through.
@Suite("Topic catalog", .timeLimit(.minutes(2)))
struct TopicCatalogTests {
  @Test("saga topics and their dead-letter topics")
  func topics() {
    #expect(
      TopicCatalog.sagaTopics == [
        "reservation-completed", "point-reward-completed", "point-reward-failed", "compensate-payment",
        "compensation-failed",
      ])
    #expect(TopicCatalog.deadLetterTopics == TopicCatalog.sagaTopics.map { $0 + ".DLT" })
    #expect(TopicCatalog.allTopics == TopicCatalog.sagaTopics + TopicCatalog.deadLetterTopics)
    #expect(Set(TopicCatalog.allTopics).count == 10)
    #expect(SagaTopic(deadLetterTopic: "compensate-payment.DLT") == .compensatePayment)
    #expect(SagaTopic(deadLetterTopic: "compensate-payment") == nil)
    #expect(SagaTopic(deadLetterTopic: "unknown.DLT") == nil)
  }

  @Test("consumer groups and who reads what")
  func groups() {
    #expect(
      TopicCatalog.consumerGroups == [
        "points-service", "payments-saga-tracker", "payment-compensation-service", "points-service-dlt",
        "sagad-dlt",
      ])
    #expect(SagaConsumerGroup.pointsService.topics == ["reservation-completed"])
    #expect(SagaConsumerGroup.paymentsSagaTracker.topics == ["point-reward-completed", "point-reward-failed"])
    #expect(SagaConsumerGroup.paymentCompensationService.topics == ["compensate-payment"])
    #expect(SagaConsumerGroup.pointsServiceDeadLetters.topics == ["reservation-completed.DLT"])
    #expect(
      SagaConsumerGroup.sagadDeadLetters.topics == [
        "point-reward-completed.DLT", "point-reward-failed.DLT", "compensate-payment.DLT", "compensation-failed.DLT",
      ])
    #expect(SagaTopic.compensationFailed.consumerGroup == nil)
    // Every DLT has exactly one reader.
    let dltReaders = SagaConsumerGroup.allCases.flatMap(\.topics).filter { $0.hasSuffix(".DLT") }
    #expect(dltReaders.sorted() == TopicCatalog.deadLetterTopics.sorted())
  }

  @Test("lag is watched for the own groups and for the partner groups of the topics a role produces")
  func watchedGroups() {
    func watched(_ services: Set<SagaService>) -> [String] {
      WatchedConsumerGroup.watched(by: services).map { watch in
        "\(watch.relation.rawValue) \(watch.group.rawValue): \(watch.topics.joined(separator: ","))"
      }
    }
    #expect(
      watched([.payments]) == [
        "partner points-service: reservation-completed",
        "own payments-saga-tracker: point-reward-completed,point-reward-failed",
        "own payment-compensation-service: compensate-payment",
        "own sagad-dlt: point-reward-completed.DLT,point-reward-failed.DLT,compensate-payment.DLT,"
          + "compensation-failed.DLT",
      ])
    #expect(
      watched([.points]) == [
        "own points-service: reservation-completed",
        "partner payments-saga-tracker: point-reward-completed,point-reward-failed",
        "partner payment-compensation-service: compensate-payment",
        "own points-service-dlt: reservation-completed.DLT",
      ])
    // Both roles: every group once, all of them own.
    let both = WatchedConsumerGroup.watched(by: [.payments, .points])
    #expect(both.map(\.group) == SagaConsumerGroup.allCases)
    #expect(both.allSatisfy { $0.relation == .own && $0.topics == $0.group.topics })
    #expect(WatchedConsumerGroup.watched(by: []).isEmpty)
  }
}
