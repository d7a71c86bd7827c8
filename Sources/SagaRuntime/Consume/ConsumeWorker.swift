public import CoreMetrics
import Foundation
public import Logging
public import SagaCore
public import SagaKafka
public import SagaStorage
public import ServiceLifecycle
import Synchronization

/// One consumer group's worker (Docs/design.md, "Local transaction per batch"): poll a batch, apply every record in
/// one write transaction with a savepoint each (inbox claim, the handler's effects,
/// its outgoing events), commit, wake the outbox relay, then store and commit the
/// Kafka offsets. A crash anywhere replays at most the uncommitted batch (or batches,
/// after an offset commit that failed even when retried), and the inbox turns the replay
/// into a no-op.
///
/// Failures follow the `RetryPolicy` without blocking the partition: a transient one is
/// retried in place a few times, milliseconds apart; if it still fails it is parked in
/// `retry_schedule` in the batch transaction and the batch moves on. Between polls the
/// worker runs the entries that are due (the poll waits no longer than the next due time),
/// each in a write transaction like any record. A permanent failure, or a transient one
/// out of attempts, is dead-lettered to `<topic>.DLT` through the outbox in the same
/// transaction (see `RecordProcessor`).
public final class ConsumeWorker: Service, PausableService, Sendable {
  public let name: String
  private let consumers: ConsumerSlot
  /// Operator pause, kept across restarts (re-applied to each fresh consumer).
  private let paused = Mutex(false)
  private var consumer: KafkaConsumer { consumers.current }
  private let database: SagaDatabase
  private let handler: any SagaMessageHandler
  private let settings: ConsumeSettings
  /// The record processor with the retry policy in force; `updateRetry` swaps the policy
  /// (SIGHUP) and each batch takes the current one.
  private let live: Mutex<RecordProcessor>
  private var processor: RecordProcessor { live.withLock { $0 } }
  private var policy: RetryPolicy { processor.policy }
  /// Where committed outbox rows go to the relay (which it wakes); nil: nobody is woken.
  private let relayHandoff: OutboxHandoff?
  private let hooks: WorkerHooks
  /// `db.commit` fires at the end of each write transaction (an error rolls it back);
  /// `consumer.before_offset_commit` before the offsets are stored and committed.
  private let failpoints: Failpoints
  private let logger: Logger
  private let stats = Mutex(WorkerStatistics())
  /// When the earliest `retry_schedule` entry of this group is due; nil when none waits.
  private let nextDue = Mutex<Date?>(nil)
  /// What in-place retries wait on, and whose wall time stamps records and due times.
  private let clock: SagaClock

  /// - Parameters:
  ///   - retry: validated by the caller (the daemon's configuration does it).
  ///   - clock: tests advance a manual one to pass in-place delays and due times.
  ///   - metrics: where the worker counts its records; nil: the process's bootstrapped factory.
  public init(
    name: String, consumer: KafkaConsumer, database: SagaDatabase, handler: any SagaMessageHandler,
    service: SagaService, settings: ConsumeSettings = ConsumeSettings(), retry: RetryPolicy = .standard,
    relayHandoff: OutboxHandoff? = nil, hooks: WorkerHooks = WorkerHooks(), failpoints: Failpoints = .disabled,
    makeConsumer: (@Sendable () throws -> KafkaConsumer)? = nil, clock: SagaClock = .continuous,
    metrics: (any MetricsFactory)? = nil, tracer: SagaTracer? = nil, logger: Logger
  ) {
    self.name = name
    self.clock = clock
    self.consumers = ConsumerSlot(worker: name, consumer: consumer, makeConsumer: makeConsumer)
    self.database = database
    self.handler = handler
    self.settings = settings
    self.relayHandoff = relayHandoff
    self.hooks = hooks
    self.failpoints = failpoints
    var logger = logger
    logger[metadataKey: "worker"] = "\(name)"
    self.logger = logger
    var processor = RecordProcessor(handler: handler, service: service, policy: retry, logger: logger)
    processor.metrics = WorkerMetrics(
      worker: name, topics: handler.consumerGroup.topics, factory: metrics)
    processor.tracer = tracer
    self.live = Mutex(processor)
  }

  /// The retry policy for the next batches (SIGHUP reload); `policy` must be validated.
  public func updateRetry(_ policy: RetryPolicy) {
    live.withLock { $0.policy = policy }
  }

  public var statistics: WorkerStatistics { stats.withLock { $0 } }

  /// Beats once per poll, for the systemd watchdog.
  public let heartbeat = Heartbeat()

  /// librdkafka's latest statistics of this worker's consumer (lag per partition).
  public var consumerStatistics: KafkaStatistics? { consumer.statistics }

  /// The consumer group this worker consumes in.
  public var groupId: String { consumer.groupId }

  /// Partitions the group currently gives this worker (empty until the first join).
  public var assignment: Set<TopicPartition> { consumer.currentAssignment }

  /// Whether an operator paused the worker (it stays in its group, fetching nothing).
  public var isPaused: Bool { paused.withLock { $0 } }

  /// Stops fetching without leaving the group; survives rebalances and restarts.
  public func pause() async throws {
    paused.withLock { $0 = true }
    try await consumer.setPaused(true)
    logger.notice("paused")
  }

  public func resume() async throws {
    paused.withLock { $0 = false }
    try await consumer.setPaused(false)
    logger.notice("resumed")
  }

  public func run() async throws {
    // A restart takes a fresh consumer (the old one left the group), paused if the worker is.
    let consumer = try consumers.take()
    if isPaused { try await consumer.setPaused(true) }
    try await consumers.run(
      consumer, topics: handler.consumerGroup.topics, heartbeat: heartbeat, logger: logger, message: "consuming",
      failed: { error in stats.withLock { $0.lastError = "\(error)" } }, prepare: { try await loadSchedule() },
      loop: {
        while !Task.isCancelled {
          let batch = try await consumer.poll(maxMessages: self.settings.batchMax, timeout: self.pollTimeout())
          self.heartbeat.beat()
          if !batch.isEmpty { try await self.process(batch) }
          // A paused worker runs no retries either: the operator stopped its processing.
          if let due = self.nextDue.withLock({ $0 }), due <= self.clock.wallTime, !self.isPaused {
            try await self.runDueEntries()
          }
        }
      })
  }

  /// The configured poll timeout, shortened so the next due entry runs on time.
  private func pollTimeout() -> Duration {
    guard let due = nextDue.withLock({ $0 }) else { return settings.pollTimeout }
    let wait = due.timeIntervalSince(clock.wallTime)
    guard wait > 0 else { return .zero }
    return min(settings.pollTimeout, .milliseconds(Int64((wait * 1000).rounded(.up))))
  }

  /// What a previous run left in the schedule: its depth, and when the next entry is due.
  private func loadSchedule() async throws {
    let group = handler.consumerGroup.rawValue
    let (due, depth) = try await database.read { db in
      (try RetrySchedule.nextDueAt(group: group, in: db), try RetrySchedule.count(group: group, in: db))
    }
    nextDue.withLock { $0 = due }
    stats.withLock { $0.retryScheduleDepth = depth }
    if depth > 0 { logger.info("retry schedule loaded", metadata: ["entries": "\(depth)"]) }
  }

  /// Applies `batch`, retrying a transiently failed record in place from where it failed
  /// (what came before it is committed), then commits the offsets of the whole batch:
  /// every record is applied, a duplicate, parked or dead-lettered by then.
  private func process(_ batch: [KafkaConsumerMessage]) async throws {
    let records = batch.map {
      RecordProcessor.Record(message: InboundMessage($0), timestampType: $0.timestampType?.kafkaName)
    }
    var remaining = records[...]
    var firstAttempt = 1
    while !remaining.isEmpty {
      let result = try await apply(remaining, firstAttempt: firstAttempt)
      if result.wroteOutbox { relayHandoff?.committed(result.outboxRecords) }
      guard let retry = result.retryInPlace else { break }
      remaining = remaining.dropFirst(retry.index)
      firstAttempt = retry.attempt + 1
      stats.withLock {
        $0.retries += 1
        $0.lastError = "\(retry.error)"
      }
      let failing = remaining.first!.message
      logger.warning(
        "transient failure, retrying in place",
        metadata: [
          "record": "\(failing.coordinates)", "code": "\(retry.error.code)", "error": "\(retry.error.message)",
          "attempts": "\(retry.attempt)", "correlationId": "\(failing.envelope.correlationId ?? "-")",
        ])
      try await clock.sleep(for: policy.delay(beforeAttempt: firstAttempt))
    }
    try hooks.afterDatabaseCommit?(name)
    try await failpoints.hitAsync(.consumerBeforeOffsetCommit)
    try consumer.store(processed: batch)
    if let failure = try await consumer.commitStored(logger: logger, clock: clock) {
      stats.withLock { $0.lastError = "\(failure)" }
    }
  }

  /// One write transaction over `records`.
  private func apply(
    _ records: ArraySlice<RecordProcessor.Record>, firstAttempt: Int
  ) async throws -> RecordProcessor.BatchResult {
    let processor = self.processor
    let failpoints = self.failpoints
    let clock = self.clock
    let database = self.database
    let waiting: (StorageError?) -> Void = { error in
      self.stats.withLock { $0.storageUnavailable = error.map { "\($0)" } }
    }
    let logger = self.logger
    // How the batch that committed was written (metrics, statistics).
    var write = WorkerMetrics.BatchWrite.transaction
    let (result, afterCommit) = try await StorageOutage(clock: clock, logger: logger).retrying(
      "apply a batch", waiting: waiting
    ) {
      let transaction = { (isolated: Bool, known: NeedsIsolation?, inOneStatement: Bool) in
        // Fresh per attempt: what a transaction that did not commit registered must not run.
        let afterCommit = CommitActions()
        let body = { @Sendable (db: any SQLConnection) in
          let result = try processor.apply(
            records, firstAttempt: firstAttempt, now: clock.wallTime, in: db, afterCommit: afterCommit,
            isolated: isolated, known: known, inOneStatement: inOneStatement)
          let depth = result.parked > 0 ? try RetrySchedule.count(group: processor.group, in: db) : nil
          try failpoints.hit(.dbCommit)
          return (result, depth)
        }
        let result = try await inOneStatement ? database.writeInOneStatement(body) : database.write(body)
        return (result, afterCommit)
      }
      // A batch runs without a savepoint per record until one fails; a retry in place is of
      // a record that failed, so it runs isolated at once.
      write = .isolated
      guard firstAttempt == 1 else { return try await transaction(true, nil, false) }
      if self.writesInOneStatement(records) {
        do {
          write = .oneStatement
          return try await transaction(false, nil, true)
        } catch let error as StorageError where error.kind == .unavailable {
          throw error
        } catch {
          // Nothing of it was written: the same batch as a transaction, under its locks.
          self.stats.withLock { $0.oneStatementFallbacks += 1 }
          processor.metrics?.countBatchFallback()
          logger.debug(
            "the batch's write as one statement failed; it runs again as a transaction", metadata: ["error": "\(error)"]
          )
        }
      }
      do {
        write = .transaction
        return try await transaction(false, nil, false)
      } catch {
        guard let failure = (error as? NeedsIsolation) ?? NeedsIsolation(commitOf: error) else { throw error }
        logger.debug(
          "the batch failed without savepoints; it runs again record by record",
          metadata: ["error": "\(failure.failure)", "record": "\(failure.index)"])
        stats.withLock { $0.isolatedReruns += 1 }
        write = .isolated
        return try await transaction(true, failure, false)
      }
    }
    processor.metrics?.countBatch(write)
    afterCommit.run()
    var (batch, depth) = result
    batch.outboxRecords = afterCommit.writtenRecords
    stats.withLock { stats in
      stats.applied += batch.applied
      stats.duplicates += batch.duplicates
      stats.retriesScheduled += batch.parked
      stats.deadLettered += batch.deadLettered
      stats.batches += 1
      if write == .oneStatement { stats.oneStatementBatches += 1 }
      if let depth { stats.retryScheduleDepth = depth }
    }
    processor.metrics?.countRetriesScheduled(batch.parked)
    if let due = batch.earliestDue { nextDue.withLock { $0 = min($0 ?? due, due) } }
    return batch
  }

  /// Whether `records` are written as one statement first (`SagaMessageHandler.writesInOneStatement`):
  /// on PostgreSQL, when each table's rows fit one held write and the handler takes the batch.
  private func writesInOneStatement(_ records: ArraySlice<RecordProcessor.Record>) -> Bool {
    database.engine == .postgres && records.count <= SagaDatabase.mostRowsPerHeldWrite
      && handler.writesInOneStatement(records.map(\.message))
  }

  /// Runs the due entries of this group's `retry_schedule`, a batch at a time.
  private func runDueEntries() async throws {
    let processor = self.processor
    let failpoints = self.failpoints
    let limit = settings.batchMax
    let afterCommit = CommitActions()
    let clock = self.clock
    let result = try await database.write { db in
      let now = clock.wallTime
      let entries = try RetrySchedule.due(group: processor.group, at: now, limit: limit, in: db)
      var result = try processor.runDue(entries, now: now, in: db, afterCommit: afterCommit)
      result.nextDue = try RetrySchedule.nextDueAt(group: processor.group, in: db)
      result.depth = try RetrySchedule.count(group: processor.group, in: db)
      try failpoints.hit(.dbCommit)
      return result
    }
    afterCommit.run()
    nextDue.withLock { $0 = result.nextDue }
    stats.withLock { stats in
      stats.applied += result.succeeded
      stats.duplicates += result.duplicates
      stats.retriedOK += result.succeeded
      stats.retries += result.succeeded + result.rescheduled + result.deadLettered
      stats.retriesScheduled += result.rescheduled
      stats.deadLettered += result.deadLettered
      stats.retryScheduleDepth = result.depth
    }
    processor.metrics?.countRetriesScheduled(result.rescheduled)
    if afterCommit.wroteOutbox { relayHandoff?.committed(afterCommit.writtenRecords) }
  }
}

extension InboundMessage {
  init(_ record: KafkaConsumerMessage) {
    self.init(
      topic: record.topic, partition: record.partition, offset: record.offset, key: record.key, value: record.value,
      headers: record.headers,
      timestampMilliseconds: record.timestampMilliseconds)
  }
}

extension KafkaConsumerMessage.TimestampType {
  /// The name Kafka's Java client gives it, as `kafka_dlt-original-timestamp-type` carries it.
  var kafkaName: String {
    switch self {
    case .createTime: "CreateTime"
    case .logAppendTime: "LogAppendTime"
    }
  }
}
