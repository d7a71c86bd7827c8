import SagaCore
import Testing

/// Error codes are part of the operator contract (DLT reasons, logs); the failure class
/// decides retry versus dead letter.
@Suite("Saga errors and the event catalog", .timeLimit(.minutes(2)))
struct SagaErrorTests {
  @Test("codes and their default classes")
  func codes() {
    let transient: Set<String> = ["database-busy", "storage-io", "injected-transient"]
    let all = [
      "invalid-json", "missing-field", "wrong-type", "invalid-value", "unsupported-version", "user-not-enrolled",
      "unknown-payment", "amount-mismatch", "already-rewarded", "database-busy", "storage-io", "injected-transient",
      "injected-permanent", "internal",
    ]
    #expect(SagaError.Code.known.map(\.rawValue) == all)
    for code in SagaError.Code.known {
      let error = SagaError(code, "x")
      let expected: FailureClass = transient.contains(code.rawValue) ? .transient : .permanent
      #expect(error.failureClass == expected, "\(code)")
      #expect(error.isRetriable == (expected == .transient), "\(code)")
    }
    #expect(SagaError.Code("something-new").defaultFailureClass == .permanent)
  }

  @Test("explicit class, description and equality")
  func basics() {
    let busy = SagaError(.databaseBusy, "database is locked", failureClass: .permanent)
    #expect(!busy.isRetriable)
    let error = SagaError(.unknownPayment, "payment 17 does not exist")
    #expect(error.description == "unknown-payment: payment 17 does not exist")
    #expect(error == SagaError("unknown-payment", "payment 17 does not exist"))
    #expect(error != SagaError(.unknownPayment, "payment 18 does not exist"))
    #expect(FailureClass.transient.description == "transient")
  }

  @Test("each event type is tied to its topic, producer and consumer group")
  func catalog() {
    let rows: [(EventType, String, String, String?)] = [
      (.reservationCompleted, "reservation-completed", "sagad/payments", "points-service"),
      (.pointRewardCompleted, "point-reward-completed", "sagad/points", "payments-saga-tracker"),
      (.pointRewardFailed, "point-reward-failed", "sagad/points", "payments-saga-tracker"),
      (.compensatePayment, "compensate-payment", "sagad/points", "payment-compensation-service"),
      (.compensationFailed, "compensation-failed", "sagad/payments", nil),
    ]
    #expect(EventType.allCases.count == rows.count)
    for (type, topic, producer, group) in rows {
      #expect(type.topic.rawValue == topic)
      #expect(EventType(topic: type.topic) == type)
      #expect(type.producer.producerName == producer)
      #expect(type.consumerGroup?.rawValue == group)
      #expect(type.eventClass.eventType == type)
      #expect(type.eventClass.topic == type.topic)
    }
    #expect(EventType.reservationCompleted.rawValue == "ReservationCompleted")
    #expect(ReservationCompleted.topic == .reservationCompleted)
    #expect(PointRewardCompleted.eventType.rawValue == "PointRewardCompleted")
    #expect(CompensationFailed.topic.rawValue == "compensation-failed")
  }
}
