import Foundation
import SagaCore
import SagaRuntime
import SagaStorage

/// Points' `reservation-completed` handler with the reward latency measured around it
/// (`sagad_reward_latency_seconds`): from the event's `occurredAt` header, written when the
/// payment committed (or, without that header, the Kafka record's timestamp), to the
/// transaction that credits the reward, recorded once that transaction committed.
struct RewardTimingHandler: SagaMessageHandler {
  let inner: ReservationCompletedHandler

  var consumerGroup: SagaConsumerGroup { inner.consumerGroup }

  /// What `ReservationCompletedHandler.handle(_:context:in:)` does, through the entry point
  /// that returns the outcome.
  func handle(_ message: InboundMessage, context: MessageContext, in db: any SQLConnection) throws(SagaError) {
    guard case .rewarded = try inner.process(message, context: context, in: db) else { return }
    let start =
      context.envelope.occurredAt
      ?? message.timestampMilliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) }
    guard let start else { return }
    let latency = Duration.seconds(max(0, context.now.timeIntervalSince(start)))
    context.onCommit { [metrics = inner.metrics] in metrics.observeLatency(latency) }
  }

  func lockShared(_ messages: [InboundMessage], in db: any SQLConnection) throws(SagaError) {
    try inner.lockShared(messages, in: db)
  }

  func prefetch(_ messages: [InboundMessage], in db: any SQLConnection) throws(SagaError) -> (any Sendable)? {
    try inner.prefetch(messages, in: db)
  }

  func writesInOneStatement(_ messages: [InboundMessage]) -> Bool { inner.writesInOneStatement(messages) }

  func deadLettered(
    _ message: InboundMessage, error: SagaError, attempts: Int, context: MessageContext, in db: any SQLConnection
  ) throws(SagaError) {
    try inner.deadLettered(message, error: error, attempts: attempts, context: context, in: db)
  }
}
