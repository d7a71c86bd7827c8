import CRdKafka
public import Logging
import Synchronization

/// A consumer-group member that never stores or commits an offset by itself: the
/// application stores positions after it has processed records (`store`) and commits
/// them (`commit`). A rebalance that takes partitions away commits what was stored
/// first, and `close` leaves the group. Every librdkafka call that can block runs on
/// the consumer's own thread.
public final class KafkaConsumer: Sendable {
  private let client: RdKafkaClient
  private let queue: ConsumerQueue
  private let io: KafkaIOThread
  private let logger: Logger
  private let closed = Mutex(false)
  public let groupId: String

  public init(configuration: KafkaConsumerConfiguration, logger: Logger) throws(KafkaError) {
    let context = KafkaClientContext(logger: logger)
    let client = try RdKafkaClient(
      type: RD_KAFKA_CONSUMER, configuration: configuration.kafkaConfiguration, context: context
    ) { conf in
      rd_kafka_conf_set_rebalance_cb(conf, consumerRebalanceCallback)
    }
    // Route the main queue (statistics, errors) into the consumer queue we poll.
    _ = rd_kafka_poll_set_consumer(client.handle)
    self.client = client
    self.queue = ConsumerQueue(raw: rd_kafka_queue_get_consumer(client.handle))
    self.io = KafkaIOThread(name: "kafka-consumer")
    self.logger = logger
    self.groupId = configuration.groupId
  }

  /// The latest librdkafka statistics, if `statisticsInterval` is set.
  public var statistics: KafkaStatistics? { client.context.statistics.withLock { $0 } }
  /// Partitions this member owns, as the last rebalance left them.
  public var currentAssignment: Set<TopicPartition> { client.context.rebalance.withLock { $0.assignment } }
  /// How many rebalances (assign or revoke) this member has gone through.
  public var rebalanceCount: Int { client.context.rebalance.withLock { $0.generation } }

  /// Joins the group for `topics` (the group join itself completes during `poll`).
  public func subscribe(topics: [String]) async throws(KafkaError) {
    let client = self.client
    try await io.run { () throws(KafkaError) in
      guard !client.isDestroyed else { throw KafkaError.closed("consumer") }
      let list = TopicPartitionList.make(topics.map { TopicPartition(topic: $0, partition: -1) })
      defer { rd_kafka_topic_partition_list_destroy(list) }
      let err = rd_kafka_subscribe(client.handle, list)
      guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
        throw KafkaError.from(err, context: "cannot subscribe to \(topics)")
      }
    }
  }

  /// Reads `positions` directly, outside any group balancing (tools, replays,
  /// benchmarks). Offsets may be `TopicPartitionOffset.beginning` or `.end`.
  public func assign(_ positions: [TopicPartitionOffset]) async throws(KafkaError) {
    let client = self.client
    try await io.run { () throws(KafkaError) in
      guard !client.isDestroyed else { throw KafkaError.closed("consumer") }
      let list = TopicPartitionList.make(positions)
      defer { rd_kafka_topic_partition_list_destroy(list) }
      let err = rd_kafka_assign(client.handle, list)
      guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
        throw KafkaError.from(err, context: "cannot assign \(positions)")
      }
    }
    client.context.rebalance.withLock { state in
      state.assignment = Set(positions.map(\.topicPartition))
    }
  }

  /// Waits up to `timeout` for a first record, then takes whatever else is already
  /// fetched, up to `maxMessages` in all. Returns an empty batch on timeout. Group
  /// rebalances and statistics are served inside this call.
  public func poll(maxMessages: Int, timeout: Duration) async throws(KafkaError) -> [KafkaConsumerMessage] {
    precondition(maxMessages > 0, "maxMessages must be positive")
    let client = self.client
    let queue = self.queue
    let logger = self.logger
    return try await io.run { () throws(KafkaError) -> [KafkaConsumerMessage] in
      guard !client.isDestroyed else { throw KafkaError.closed("consumer") }
      guard let first = rd_kafka_consumer_poll(client.handle, Int32(clamping: timeout.milliseconds)) else {
        return []
      }
      var batch: [KafkaConsumerMessage] = []
      batch.reserveCapacity(maxMessages)
      var failure = ConsumerMessageReader.take(first, into: &batch, logger: logger)
      if maxMessages > 1 {
        let buffer = UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>.allocate(capacity: maxMessages - 1)
        defer { buffer.deallocate() }
        let count = rd_kafka_consume_batch_queue(queue.raw, 0, buffer, maxMessages - 1)
        for index in 0..<max(count, 0) {
          guard let message = buffer[index] else { continue }
          failure = ConsumerMessageReader.take(message, into: &batch, logger: logger) ?? failure
        }
      }
      if let failure, batch.isEmpty { throw failure }
      return batch
    }
  }

  /// Stores positions (offset = next record to read) to be committed by `commit` or
  /// by the next rebalance. Positions of partitions this member no longer owns are
  /// skipped and returned: their records will be redelivered to the new owner.
  @discardableResult
  public func store(_ positions: [TopicPartitionOffset]) throws(KafkaError) -> [TopicPartitionOffset] {
    guard !positions.isEmpty else { return [] }
    let list = TopicPartitionList.make(positions)
    defer { rd_kafka_topic_partition_list_destroy(list) }
    guard let err = client.withLiveHandle({ rd_kafka_offsets_store($0, list) }) else {
      throw KafkaError.closed("consumer")
    }
    let rejected = TopicPartitionList.read(list).filter { $0.error != RD_KAFKA_RESP_ERR_NO_ERROR }
    if !rejected.isEmpty {
      logger.info(
        "offsets not stored for partitions no longer assigned",
        metadata: ["partitions": "\(rejected.map(\.position.description))"])
    }
    if err != RD_KAFKA_RESP_ERR_NO_ERROR && rejected.count < positions.count {
      throw KafkaError.from(err, context: "cannot store offsets")
    }
    return rejected.map(\.position)
  }

  /// Stores the position after each processed record, per partition.
  @discardableResult
  public func store(processed messages: [KafkaConsumerMessage]) throws(KafkaError) -> [TopicPartitionOffset] {
    var next: [TopicPartition: Int64] = [:]
    for message in messages {
      next[message.topicPartition] = max(next[message.topicPartition] ?? 0, message.offset + 1)
    }
    return try store(
      next.map { TopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) })
  }

  /// Commits the stored positions to the group coordinator and waits for the answer.
  public func commit() async throws(KafkaError) {
    let client = self.client
    try await io.run { () throws(KafkaError) in
      guard !client.isDestroyed else { throw KafkaError.closed("consumer") }
      let err = rd_kafka_commit(client.handle, nil, 0)
      guard err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET else {
        throw KafkaError.from(err, context: "offset commit failed")
      }
    }
  }

  /// Commits exactly `positions` and waits for the answer, even where that moves a
  /// committed offset backwards (an operator's offset reset; `commit()` only ever moves
  /// stored offsets forwards). The partitions must be assigned to this member.
  public func commit(_ positions: [TopicPartitionOffset]) async throws(KafkaError) {
    let client = self.client
    try await io.run { () throws(KafkaError) in
      guard !client.isDestroyed else { throw KafkaError.closed("consumer") }
      let list = TopicPartitionList.make(positions)
      defer { rd_kafka_topic_partition_list_destroy(list) }
      let err = rd_kafka_commit(client.handle, list, 0)
      guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
        throw KafkaError.from(err, context: "offset commit failed")
      }
    }
  }

  /// The group's committed positions for `partitions`, asked of the coordinator.
  public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) async throws(KafkaError)
    -> [TopicPartitionOffset]
  {
    let client = self.client
    return try await io.run { () throws(KafkaError) -> [TopicPartitionOffset] in
      guard !client.isDestroyed else { throw KafkaError.closed("consumer") }
      let list = TopicPartitionList.make(partitions)
      defer { rd_kafka_topic_partition_list_destroy(list) }
      let err = rd_kafka_committed(client.handle, list, Int32(clamping: timeout.milliseconds))
      guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
        throw KafkaError.from(err, context: "cannot read committed offsets")
      }
      return TopicPartitionList.read(list).map(\.position)
    }
  }

  /// Stops fetching from `partitions` while keeping them assigned.
  public func pause(_ partitions: [TopicPartition]) async throws(KafkaError) {
    try await changeFetching(partitions, pause: true)
  }

  /// Fetches again from paused `partitions`.
  public func resume(_ partitions: [TopicPartition]) async throws(KafkaError) {
    try await changeFetching(partitions, pause: false)
  }

  /// Whether `setPaused(true)` is in force.
  public var isPaused: Bool { client.context.rebalance.withLock { $0.pauseAll } }

  /// Pauses (or resumes) fetching from every partition this member owns while staying in
  /// the group: polling goes on, so heartbeats and rebalances are served. A pause survives
  /// rebalances: the rebalance callback pauses newly assigned partitions before any fetch.
  /// On a closed consumer only the flag changes.
  public func setPaused(_ paused: Bool) async throws(KafkaError) {
    let client = self.client
    client.context.rebalance.withLock { $0.pauseAll = paused }
    guard !closed.withLock({ $0 }) else { return }
    try await io.run { () throws(KafkaError) in
      // Set on the consumer thread, where the rebalance callback also runs, so no
      // assignment slips between the flag and the pause.
      let assigned = client.context.rebalance.withLock { state in
        state.pauseAll = paused
        return state.assignment
      }
      guard !client.isDestroyed, !assigned.isEmpty else { return }
      let list = TopicPartitionList.make(Array(assigned))
      defer { rd_kafka_topic_partition_list_destroy(list) }
      let err =
        paused ? rd_kafka_pause_partitions(client.handle, list) : rd_kafka_resume_partitions(client.handle, list)
      guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
        throw KafkaError.from(err, context: paused ? "cannot pause" : "cannot resume")
      }
    }
  }

  /// The partitions librdkafka currently has assigned to this member.
  public func assignment() async throws(KafkaError) -> [TopicPartition] {
    let client = self.client
    return try await io.run { () throws(KafkaError) -> [TopicPartition] in
      guard !client.isDestroyed else { throw KafkaError.closed("consumer") }
      var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
      let err = rd_kafka_assignment(client.handle, &list)
      defer { if let list { rd_kafka_topic_partition_list_destroy(list) } }
      guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError.from(err, context: "cannot read assignment") }
      return TopicPartitionList.partitions(list).sorted()
    }
  }

  /// Commits what was stored (through the final revoke), leaves the group so its
  /// partitions move at once rather than after `session.timeout.ms`, and frees the client.
  public func close() async {
    let first = closed.withLock { closed in
      defer { closed = true }
      return !closed
    }
    guard first else { return }
    let client = self.client
    let queue = self.queue
    let logger = self.logger
    try? await io.run { () throws(KafkaError) in
      let err = rd_kafka_consumer_close(client.handle)
      if err != RD_KAFKA_RESP_ERR_NO_ERROR {
        logger.warning("consumer close: \(String(cString: rd_kafka_err2str(err)))")
      }
      rd_kafka_queue_destroy(queue.raw)
      client.destroy()
    }
    await io.stop()
  }

  deinit {
    // Dropped without close: still leave the group, on the consumer's thread.
    guard !closed.withLock({ $0 }) else { return }
    let client = self.client
    let queue = self.queue
    io.finish {
      _ = rd_kafka_consumer_close(client.handle)
      rd_kafka_queue_destroy(queue.raw)
      client.destroy()
    }
  }

  private func changeFetching(_ partitions: [TopicPartition], pause: Bool) async throws(KafkaError) {
    let client = self.client
    try await io.run { () throws(KafkaError) in
      guard !client.isDestroyed else { throw KafkaError.closed("consumer") }
      let list = TopicPartitionList.make(partitions)
      defer { rd_kafka_topic_partition_list_destroy(list) }
      let err =
        pause ? rd_kafka_pause_partitions(client.handle, list) : rd_kafka_resume_partitions(client.handle, list)
      guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
        throw KafkaError.from(err, context: pause ? "cannot pause" : "cannot resume")
      }
    }
  }
}

/// The consumer queue handle; librdkafka queues are thread-safe.
private struct ConsumerQueue: @unchecked Sendable {
  let raw: OpaquePointer?
}

/// librdkafka's rebalance callback, run inside `poll` or `close` on the consumer thread.
private func consumerRebalanceCallback(
  _ rk: OpaquePointer?, _ err: rd_kafka_resp_err_t,
  _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
  _ opaque: UnsafeMutableRawPointer?
) {
  guard let rk, let context = KafkaClientContext.from(opaque) else { return }
  let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
  let changed = Set(TopicPartitionList.partitions(partitions))
  switch err {
  case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
    if cooperative {
      if let error = rd_kafka_incremental_assign(rk, partitions) {
        context.logger.error("incremental assign failed: \(KafkaError.consuming(error, context: "assign"))")
      }
    } else {
      _ = rd_kafka_assign(rk, partitions)
    }
    let paused = context.rebalance.withLock { state in
      state.assignment = cooperative ? state.assignment.union(changed) : changed
      state.generation += 1
      return state.pauseAll
    }
    // A paused member stays paused across rebalances: no fetch starts for these.
    if paused, let partitions { _ = rd_kafka_pause_partitions(rk, partitions) }
    context.logger.info("partitions assigned", metadata: ["partitions": "\(changed.sorted().map(\.description))"])
  case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
    // Commit what the application has stored before the partitions move, so the new
    // owner starts right after the last processed record instead of replaying.
    let commitErr = rd_kafka_commit(rk, nil, 0)
    let commitError: KafkaError? =
      commitErr == RD_KAFKA_RESP_ERR_NO_ERROR || commitErr == RD_KAFKA_RESP_ERR__NO_OFFSET
      ? nil : KafkaError.from(commitErr, context: "commit before revoke")
    if let commitError {
      context.logger.warning("\(commitError)")
    }
    if cooperative {
      if let error = rd_kafka_incremental_unassign(rk, partitions) {
        context.logger.error("incremental unassign failed: \(KafkaError.consuming(error, context: "unassign"))")
      }
    } else {
      _ = rd_kafka_assign(rk, nil)
    }
    context.rebalance.withLock { state in
      state.assignment = cooperative ? state.assignment.subtracting(changed) : []
      state.generation += 1
      state.lastRevokeCommitError = commitError
    }
    context.logger.info("partitions revoked", metadata: ["partitions": "\(changed.sorted().map(\.description))"])
  default:
    context.logger.error("rebalance error: \(String(cString: rd_kafka_err2str(err)))")
    _ = rd_kafka_assign(rk, nil)
    context.rebalance.withLock { state in
      state.assignment = []
      state.generation += 1
    }
  }
}
