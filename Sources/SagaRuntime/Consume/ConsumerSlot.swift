import Logging
import SagaCore
import SagaKafka
import ServiceLifecycle
import Synchronization

/// The consumer of a worker's current (or last) run, and the run's frame. A run closes
/// its consumer when it ends, and a closed consumer has left the group: the next run (a
/// supervisor's restart) takes a fresh one from `makeConsumer`.
final class ConsumerSlot: Sendable {
  private let worker: String
  private let slot: Mutex<(current: KafkaConsumer, used: Bool)>
  private let makeConsumer: (@Sendable () throws -> KafkaConsumer)?

  init(worker: String, consumer: KafkaConsumer, makeConsumer: (@Sendable () throws -> KafkaConsumer)?) {
    self.worker = worker
    self.slot = Mutex((consumer, false))
    self.makeConsumer = makeConsumer
  }

  /// The consumer of the current (or last) run.
  var current: KafkaConsumer { slot.withLock { $0.current } }

  /// The consumer for a new run: the first one, then a fresh one per run.
  func take() throws -> KafkaConsumer {
    try slot.withLock { slot in
      guard slot.used else {
        slot.used = true
        return slot.current
      }
      guard let makeConsumer else {
        throw SagaError(.internalError, "worker \(worker) cannot run twice: it was built without makeConsumer")
      }
      slot.current = try makeConsumer()
      return slot.current
    }
  }

  /// One run over `consumer`: subscribes to `topics`, runs `prepare`, then `loop` until a
  /// graceful shutdown (the current batch finishes first), and closes the consumer. Any
  /// other error goes to `failed`, closes the consumer and is rethrown.
  func run(
    _ consumer: KafkaConsumer, topics: [String], heartbeat: Heartbeat, logger: Logger, message: Logger.Message,
    failed: (any Error) -> Void, prepare: () async throws -> Void = {},
    loop: @escaping @Sendable () async throws -> Void
  ) async throws {
    heartbeat.restart()
    defer { heartbeat.stop() }
    try await consumer.subscribe(topics: topics)
    logger.info(message, metadata: ["topics": "\(topics)"])
    do {
      try await prepare()
      try await cancelWhenGracefulShutdown(loop)
    } catch is CancellationError {
      // Graceful shutdown: fall through to close.
    } catch {
      failed(error)
      await consumer.close()
      throw error
    }
    await consumer.close()
    logger.info("stopped")
  }
}
