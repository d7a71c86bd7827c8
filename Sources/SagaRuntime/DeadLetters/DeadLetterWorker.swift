import Foundation
public import Logging
public import SagaCore
public import SagaKafka
public import SagaStorage
public import ServiceLifecycle
import Synchronization

/// Consumes the `.DLT` topics of one consumer group (Docs/event-catalog.md: `points-service-dlt`
/// for `reservation-completed.DLT`, `sagad-dlt` for the others) into the dead-letter
/// store: poll a batch, store every record in one transaction, then commit the offsets.
/// The store is idempotent by the DLT coordinates, so a redelivered batch adds nothing.
///
/// A dead letter is stored whatever it holds: a record that is not sagad's, has no
/// `kafka_dlt-*` headers, or no value at all, is still kept, with reason `unknown`.
/// Only a failure of the store itself stops the worker (after retries for a retriable one).
public final class DeadLetterWorker: Service, Sendable {
  public let name: String
  public let group: SagaConsumerGroup
  private let consumers: ConsumerSlot
  private let store: DeadLetterStore
  private let settings: DeadLetterSettings
  private let logger: Logger
  private let stats = Mutex(DeadLetterWorkerStatistics())
  /// Bumped once per poll, for the watchdog.
  public let heartbeat = Heartbeat()
  /// What the retries of a failed store and offset commit wait on.
  private let clock: SagaClock

  public init(
    name: String? = nil, group: SagaConsumerGroup, consumer: KafkaConsumer, store: DeadLetterStore,
    settings: DeadLetterSettings = DeadLetterSettings(),
    makeConsumer: (@Sendable () throws -> KafkaConsumer)? = nil, clock: SagaClock = .continuous, logger: Logger
  ) {
    self.name = name ?? group.rawValue
    self.clock = clock
    self.group = group
    self.consumers = ConsumerSlot(worker: self.name, consumer: consumer, makeConsumer: makeConsumer)
    self.store = store
    self.settings = settings
    var logger = logger
    logger[metadataKey: "worker"] = "\(self.name)"
    self.logger = logger
  }

  public var statistics: DeadLetterWorkerStatistics { stats.withLock { $0 } }

  /// Partitions the group currently gives this worker (empty until the first join).
  public var assignment: Set<TopicPartition> { consumers.current.currentAssignment }

  public func run() async throws {
    let consumer = try consumers.take()
    try await consumers.run(
      consumer, topics: group.topics, heartbeat: heartbeat, logger: logger, message: "consuming dead letters",
      failed: { error in stats.withLock { $0.lastError = "\(error)" } },
      loop: {
        while !Task.isCancelled {
          let batch = try await consumer.poll(maxMessages: self.settings.batchMax, timeout: self.settings.pollTimeout)
          self.heartbeat.beat()
          guard !batch.isEmpty else { continue }
          try await self.process(batch, consumer)
        }
      })
  }

  private func process(_ batch: [KafkaConsumerMessage], _ consumer: KafkaConsumer) async throws {
    let letters = batch.map(ReceivedDeadLetter.init)
    var attempt = 1
    var delay: Duration = .milliseconds(200)
    while true {
      do {
        // An unreachable database (PostgreSQL) is waited out, not counted against the attempts.
        let stored = try await StorageOutage(clock: clock, logger: logger).retrying("store dead letters") {
          try await store.record(letters, at: clock.wallTime)
        }
        stats.withLock { stats in
          stats.stored += stored
          stats.duplicates += letters.count - stored
          stats.batches += 1
        }
        if stored > 0 {
          logger.warning(
            "dead letters stored",
            metadata: [
              "count": "\(stored)", "first": "\(letters[0].coordinates)",
              "topics": "\(Set(letters.map(\.topic)).sorted())",
            ])
        }
        break
      } catch let error as StorageError where error.isRetriable && attempt < settings.storeAttempts {
        stats.withLock { $0.lastError = "\(error)" }
        logger.warning("storing dead letters failed, retrying", metadata: ["error": "\(error)"])
        try await clock.sleep(for: delay)
        delay *= 2
        attempt += 1
      }
    }
    try consumer.store(processed: batch)
    if let failure = try await consumer.commitStored(logger: logger, clock: clock) {
      stats.withLock { $0.lastError = "\(failure)" }
    }
  }
}

extension ReceivedDeadLetter {
  init(_ record: KafkaConsumerMessage) {
    self.init(
      topic: record.topic, partition: record.partition, offset: record.offset,
      timestampMilliseconds: record.timestampMilliseconds, key: record.key, value: record.value,
      headers: record.headers)
  }
}
