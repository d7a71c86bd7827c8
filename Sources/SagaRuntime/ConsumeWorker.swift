import Foundation
import GRDB
public import Logging
public import SagaCore
public import SagaKafka
public import SagaStorage
public import ServiceLifecycle
import Synchronization

/// One consumer group's worker (DESIGN.md §4): poll a batch, apply every record in
/// one write transaction with a savepoint each (inbox claim, the handler's effects,
/// its outgoing events), commit, wake the outbox relay, then store and commit the
/// Kafka offsets. A crash anywhere replays at most the uncommitted batch, and the
/// inbox turns the replay into a no-op.
public final class ConsumeWorker: Service, Sendable {
  public let name: String
  private let consumer: KafkaConsumer
  private let database: SagaDatabase
  private let handler: any SagaMessageHandler
  private let service: SagaService
  private let settings: ConsumeSettings
  private let relayWakeup: Wakeup?
  private let hooks: WorkerHooks
  private let logger: Logger
  private let stats = Mutex(WorkerStatistics())

  public init(
    name: String, consumer: KafkaConsumer, database: SagaDatabase, handler: any SagaMessageHandler,
    service: SagaService, settings: ConsumeSettings = ConsumeSettings(), relayWakeup: Wakeup? = nil,
    hooks: WorkerHooks = WorkerHooks(), logger: Logger
  ) {
    self.name = name
    self.consumer = consumer
    self.database = database
    self.handler = handler
    self.service = service
    self.settings = settings
    self.relayWakeup = relayWakeup
    self.hooks = hooks
    var logger = logger
    logger[metadataKey: "worker"] = "\(name)"
    self.logger = logger
  }

  public var statistics: WorkerStatistics { stats.withLock { $0 } }

  /// Partitions the group currently gives this worker (empty until the first join).
  public var assignment: Set<TopicPartition> { consumer.currentAssignment }

  public func run() async throws {
    try await consumer.subscribe(topics: handler.consumerGroup.topics)
    logger.info("consuming", metadata: ["topics": "\(handler.consumerGroup.topics)"])
    do {
      try await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
          let batch = try await self.consumer.poll(
            maxMessages: self.settings.batchMax, timeout: self.settings.pollTimeout)
          guard !batch.isEmpty else { continue }
          try await self.process(batch)
        }
      }
    } catch is CancellationError {
      // Graceful shutdown: the current batch finished above; fall through to close.
    } catch {
      stats.withLock { $0.lastError = "\(error)" }
      await consumer.close()
      throw error
    }
    await consumer.close()
    logger.info("stopped")
  }

  /// Applies `batch`, retrying from the first transiently failed record, then commits
  /// the offsets of everything applied or recorded.
  private func process(_ batch: [KafkaConsumerMessage]) async throws {
    var remaining = batch[...]
    var attempt = 1
    while !remaining.isEmpty {
      let records = Array(remaining)
      let result = try await apply(records)
      stats.withLock { stats in
        stats.applied += result.applied
        stats.duplicates += result.duplicates
        stats.failed += result.failed
        stats.batches += 1
      }
      if result.applied + result.failed > 0 { relayWakeup?.signal() }
      guard let failedAt = result.transientFailureAt, let error = result.transientError else { break }
      // Everything before the failing record is committed; keep its position and
      // retry from there after a back-off, without touching the partition order.
      remaining = remaining.dropFirst(failedAt)
      stats.withLock {
        $0.retries += 1
        $0.lastError = "\(error)"
      }
      guard attempt < settings.transientAttempts else {
        try await commitOffsets(of: Array(batch.prefix(batch.count - remaining.count)))
        throw error
      }
      let failing = InboundMessage(remaining.first!)
      logger.warning(
        "transient failure, retrying",
        metadata: [
          "record": "\(failing.coordinates)", "error": "\(error)",
          "correlationId": "\(failing.envelope.correlationId ?? "-")",
        ])
      try await Task.sleep(for: settings.retryDelay * (1 << (attempt - 1)))
      attempt += 1
    }
    try hooks.afterDatabaseCommit?(name)
    try await commitOffsets(of: batch)
  }

  private func commitOffsets(of records: [KafkaConsumerMessage]) async throws {
    guard !records.isEmpty else { return }
    try consumer.store(processed: records)
    try await consumer.commit()
  }

  private struct BatchResult: Sendable {
    var applied = 0
    var duplicates = 0
    var failed = 0
    var transientFailureAt: Int?
    var transientError: SagaError?
  }

  /// One write transaction over `records`; stops at the first transient failure.
  private func apply(_ records: [KafkaConsumerMessage]) async throws -> BatchResult {
    let group = handler.consumerGroup.rawValue
    let handler = self.handler
    let service = self.service
    let logger = self.logger
    // Converted (headers parsed) before the transaction: the writer is the stage every
    // record of the service's database waits for, so work that needs no database stays out.
    let messages = records.map(InboundMessage.init)
    return try await database.write { db in
      var result = BatchResult()
      let now = Date()
      for (index, message) in messages.enumerated() {
        var outcome: SagaError?
        var duplicate = false
        try db.inCachedSavepoint {
          do {
            let claimed = try Inbox.claim(
              group: group, eventId: message.deduplicationKey, topic: message.topic, partition: message.partition,
              offset: message.offset, at: now, in: db)
            guard claimed else {
              duplicate = true
              return .commit
            }
            let context = MessageContext(envelope: message.envelope, service: service, now: now)
            try handler.handle(message, context: context, in: db)
            return .commit
          } catch {
            outcome = SagaError.storage(error)
            return .rollback
          }
        }
        if duplicate {
          result.duplicates += 1
          continue
        }
        guard let error = outcome else {
          result.applied += 1
          continue
        }
        if error.failureClass == .transient {
          result.transientFailureAt = index
          result.transientError = error
          return result
        }
        // Permanent: never retried; recorded with its reason so nothing is lost,
        // and the partition moves on.
        logger.error(
          "permanent failure, recorded",
          metadata: [
            "record": "\(message.coordinates)", "code": "\(error.code)", "reason": "\(error.message)",
            "correlationId": "\(message.envelope.correlationId ?? "-")",
          ])
        _ = try FailedMessages.record(
          FailedMessage(
            consumerGroup: group, topic: message.topic, partition: message.partition, offset: message.offset,
            key: message.key.map { String(decoding: $0, as: UTF8.self) }, payload: message.value ?? [],
            headers: message.headers.map { OutboxHeader(name: $0.name, value: $0.value) },
            reasonCode: error.code.rawValue, reason: error.message, failedAt: now),
          in: db)
        result.failed += 1
      }
      return result
    }
  }
}

extension InboundMessage {
  init(_ record: KafkaConsumerMessage) {
    self.init(
      topic: record.topic, partition: record.partition, offset: record.offset, key: record.key, value: record.value,
      headers: record.headers.map { EnvelopeHeader(name: $0.key, value: $0.stringValue ?? "") },
      timestampMilliseconds: record.timestampMilliseconds)
  }
}
