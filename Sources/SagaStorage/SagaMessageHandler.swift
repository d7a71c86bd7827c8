public import GRDB
public import SagaCore

/// What a service plugs into the consume loop: one method applied to each record
/// inside the worker's write transaction (a savepoint of it), after the inbox has ruled
/// out a redelivery. The loop commits the transaction, then the Kafka offsets.
///
/// Throwing a permanent `SagaError` rolls the savepoint back and records the record as
/// a permanent failure (never retried, the partition moves on); a transient one rolls
/// back and retries. Anything the handler wants to publish goes through `context.emit`,
/// which writes to the outbox in the same transaction.
public protocol SagaMessageHandler: Sendable {
  /// The consumer group (and so the topics) this handler serves.
  var consumerGroup: SagaConsumerGroup { get }

  func handle(_ message: InboundMessage, context: MessageContext, in db: Database) throws(SagaError)
}
