import Payments
import Points
import SagaCore
import SagaRuntime

/// Both services in one process without a broker: an event taken from one service's outbox is
/// handed to the handler that consumes it in the other, as the consumers do after Kafka.
enum InProcessDelivery {
  static func deliver(_ message: InboundMessage, payments: PaymentsService, points: PointsService) async throws {
    let context = MessageContext(
      envelope: message.envelope,
      service: message.topic == SagaTopic.reservationCompleted.rawValue ? .points : .payments)
    switch message.topic {
    case SagaTopic.reservationCompleted.rawValue:
      try await points.database.write { db in
        try ReservationCompletedHandler().handle(message, context: context, in: db)
      }
    case SagaTopic.pointRewardCompleted.rawValue, SagaTopic.pointRewardFailed.rawValue:
      try await payments.database.write { db in
        try PaymentsSagaTrackerHandler().handle(message, context: context, in: db)
      }
    case SagaTopic.compensatePayment.rawValue:
      try await payments.database.write { db in
        try PaymentCompensationHandler().handle(message, context: context, in: db)
      }
    default:
      break
    }
  }
}
