import CRdKafka
public import Logging
import Synchronization

/// Cluster administration over librdkafka's Admin API and metadata calls: create topics
/// idempotently, list topics and partition leaders, read watermarks and a group's
/// committed offsets. Every call waits for the cluster, so all of them run on the admin
/// client's own thread, one after another.
public final class KafkaAdmin: Sendable {
  private let client: RdKafkaClient
  private let io: KafkaIOThread
  /// Set on the I/O thread by `close`; jobs check it there, so none can run after the
  /// handle is destroyed, even one queued while `close` was running.
  private let closed = Mutex(false)

  public init(bootstrapServers: String, overrides: [String: String] = [:], logger: Logger) throws(KafkaError) {
    let configuration = KafkaConfiguration([
      "bootstrap.servers": bootstrapServers,
      "client.id": "sagad-admin",
      // Admin questions about a topic must never create it as a side effect.
      "allow.auto.create.topics": "false",
    ]).merging(overrides)
    // Any client type can issue admin requests; a producer handle needs no group.
    client = try RdKafkaClient(
      type: RD_KAFKA_PRODUCER, configuration: configuration, context: KafkaClientContext(logger: logger))
    io = KafkaIOThread(name: "kafka-admin")
  }

  /// Makes sure every topic exists. A topic that already exists counts as created, even
  /// if its partition count differs (Kafka never shrinks a topic; compare with
  /// `listTopics` if that matters). Throws the first other per-topic failure.
  ///
  /// librdkafka 2.0.2's mock cluster does not implement CreateTopics: against
  /// `EmbeddedKafkaCluster` this throws `unsupportedFeature`; create topics there with
  /// `EmbeddedKafkaCluster.createTopic`.
  public func createTopics(_ topics: [NewTopic], timeout: Duration = .seconds(30)) async throws(KafkaError) {
    guard !topics.isEmpty else { return }
    try await perform { handle throws(KafkaError) in
      var newTopics: [OpaquePointer?] = []
      defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
      for topic in topics {
        newTopics.append(try makeNewTopic(topic))
      }
      let options = try adminOptions(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout: timeout, operation: true)
      defer { rd_kafka_AdminOptions_destroy(options) }
      let event = try awaitAdminResult(handle, timeout: timeout, what: "create topics") { queue in
        rd_kafka_CreateTopics(handle, &newTopics, newTopics.count, options, queue)
      }
      defer { rd_kafka_event_destroy(event) }
      var count = 0
      let results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count)
      var failures: [(code: KafkaError.Code, text: String)] = []
      for index in 0..<count {
        guard let result = results?[index] else { continue }
        let err = rd_kafka_topic_result_error(result)
        if err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS { continue }
        let name = String(cString: rd_kafka_topic_result_name(result))
        let text = rd_kafka_topic_result_error_string(result).map { String(cString: $0) } ?? ""
        failures.append((KafkaError.Code(err), "\(name): \(text)"))
      }
      if let first = failures.first {
        throw KafkaError(
          code: first.code, message: "cannot create topics: \(failures.map(\.text).joined(separator: "; "))")
      }
    }
  }

  /// Every topic in the cluster, sorted by name; names starting with `__` (Kafka's
  /// internal topics) only with `includeInternal`.
  public func listTopics(includeInternal: Bool = false, timeout: Duration = .seconds(10)) async throws(KafkaError)
    -> [TopicMetadata]
  {
    try await perform { handle throws(KafkaError) in
      var metadata: UnsafePointer<rd_kafka_metadata_t>?
      let err = rd_kafka_metadata(handle, 1, nil, &metadata, clampedMilliseconds(timeout))
      guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
        throw KafkaError.from(err, context: "cannot read cluster metadata")
      }
      defer { rd_kafka_metadata_destroy(metadata) }
      let md = metadata.pointee
      var topics: [TopicMetadata] = []
      for topicIndex in 0..<Int(md.topic_cnt) {
        let topic = md.topics[topicIndex]
        let name = String(cString: topic.topic)
        if !includeInternal && name.hasPrefix("__") { continue }
        let partitions = (0..<Int(topic.partition_cnt)).map { index in
          let partition = topic.partitions[index]
          return TopicMetadata.Partition(
            id: partition.id, leader: partition.leader,
            replicas: Array(UnsafeBufferPointer(start: partition.replicas, count: Int(partition.replica_cnt))),
            inSyncReplicas: Array(UnsafeBufferPointer(start: partition.isrs, count: Int(partition.isr_cnt))),
            error: errorCode(partition.err))
        }
        topics.append(
          TopicMetadata(name: name, partitions: partitions.sorted { $0.id < $1.id }, error: errorCode(topic.err)))
      }
      return topics.sorted { $0.name < $1.name }
    }
  }

  /// The brokers of the cluster, from a metadata request that names no topic: the
  /// cheapest question a broker answers, so a reachability probe can ask it often.
  public func brokers(timeout: Duration = .seconds(2)) async throws(KafkaError) -> ClusterBrokers {
    try await perform { handle throws(KafkaError) in
      var metadata: UnsafePointer<rd_kafka_metadata_t>?
      // all_topics 0 and no topic handle: the admin client knows no topics, so no topic is asked.
      let err = rd_kafka_metadata(handle, 0, nil, &metadata, clampedMilliseconds(timeout))
      guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
        throw KafkaError.from(err, context: "cannot read cluster metadata")
      }
      defer { rd_kafka_metadata_destroy(metadata) }
      let md = metadata.pointee
      let brokers = (0..<Int(md.broker_cnt)).map { index in
        let broker = md.brokers[index]
        return ClusterBrokers.Broker(id: broker.id, host: String(cString: broker.host), port: broker.port)
      }
      // Cached from the metadata answer just received: a zero timeout does not wait.
      var clusterID: String?
      if let id = rd_kafka_clusterid(handle, 0) {
        clusterID = String(cString: id)
        rd_kafka_mem_free(handle, id)
      }
      return ClusterBrokers(
        brokers: brokers.sorted { $0.id < $1.id },
        answeredBy: md.orig_broker_name.map { String(cString: $0) } ?? String(md.orig_broker_id), clusterID: clusterID)
    }
  }

  /// The partition's low watermark (oldest offset still stored) and high watermark
  /// (the offset the next record will get), asked from the partition's leader.
  ///
  /// Not `rd_kafka_query_watermark_offsets`: in librdkafka 2.0.2 it waits without limit
  /// while the leader is unreachable (it retries each reconnect attempt), which would
  /// wedge this client's thread. `rd_kafka_offsets_for_times` with Kafka's special
  /// timestamps -2 (earliest) and -1 (latest) asks the same and honours the timeout.
  public func watermarks(topic: String, partition: Int32, timeout: Duration = .seconds(10)) async throws(KafkaError)
    -> (low: Int64, high: Int64)
  {
    try await perform { handle throws(KafkaError) in
      let clock = ContinuousClock()
      let deadline = clock.now.advanced(by: timeout)
      func offset(at timestamp: Int64) throws(KafkaError) -> Int64 {
        let list = TopicPartitionList.make([TopicPartitionOffset(topic: topic, partition: partition, offset: timestamp)]
        )
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let remaining = max(clock.now.duration(to: deadline), .milliseconds(1))
        var err = rd_kafka_offsets_for_times(handle, list, clampedMilliseconds(remaining))
        let answer = TopicPartitionList.read(list).first
        if err == RD_KAFKA_RESP_ERR_NO_ERROR { err = answer?.error ?? RD_KAFKA_RESP_ERR__BAD_MSG }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let answer else {
          throw KafkaError.from(err, context: "cannot read watermarks of \(topic)[\(partition)]")
        }
        return answer.position.offset
      }
      let low = try offset(at: -2)
      let high = try offset(at: -1)
      return (low, high)
    }
  }

  /// The watermarks of many partitions in two requests per partition leader (earliest,
  /// then latest), for a sampler that asks about every partition at once. A partition the
  /// broker answered with an error is left out; a call that got no answer at all throws.
  /// Same means as `watermarks(topic:partition:)`, for the same reason.
  public func watermarks(of partitions: [TopicPartition], timeout: Duration = .seconds(10)) async throws(KafkaError)
    -> [TopicPartition: PartitionWatermarks]
  {
    guard !partitions.isEmpty else { return [:] }
    return try await perform { handle throws(KafkaError) in
      let clock = ContinuousClock()
      let deadline = clock.now.advanced(by: timeout)
      func offsets(at timestamp: Int64) throws(KafkaError) -> [TopicPartition: Int64] {
        let list = TopicPartitionList.make(
          partitions.map { TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: timestamp) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let remaining = max(clock.now.duration(to: deadline), .milliseconds(1))
        let err = rd_kafka_offsets_for_times(handle, list, clampedMilliseconds(remaining))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
          throw KafkaError.from(err, context: "cannot read the watermarks of \(partitions.count) partitions")
        }
        var answers: [TopicPartition: Int64] = [:]
        for element in TopicPartitionList.read(list)
        where element.error == RD_KAFKA_RESP_ERR_NO_ERROR && element.position.offset >= 0 {
          answers[element.position.topicPartition] = element.position.offset
        }
        return answers
      }
      let low = try offsets(at: TopicPartitionOffset.beginning)
      let high = try offsets(at: TopicPartitionOffset.end)
      var marks: [TopicPartition: PartitionWatermarks] = [:]
      for (partition, start) in low {
        if let end = high[partition] { marks[partition] = PartitionWatermarks(low: start, high: end) }
      }
      return marks
    }
  }

  /// The offsets `group` has committed, sorted, for every partition of `topics` (of
  /// every topic in the cluster if nil). Partitions without a commit are left out. A
  /// topic in `topics` that does not exist is an `unknownTopicOrPartition` error.
  ///
  /// The partitions are always listed explicitly: asking for "all of the group's
  /// partitions" (a null topic list in OffsetFetch) returns nothing on librdkafka
  /// 2.0.2's mock cluster.
  public func committedOffsets(group: String, topics: [String]? = nil, timeout: Duration = .seconds(10))
    async throws(KafkaError) -> [TopicPartitionOffset]
  {
    let known = try await listTopics(includeInternal: false, timeout: timeout)
    var partitions: [TopicPartition] = []
    for name in topics ?? known.map(\.name) {
      guard let topic = known.first(where: { $0.name == name }) else {
        throw KafkaError(code: .unknownTopicOrPartition, message: "no topic '\(name)' in the cluster")
      }
      partitions += topic.partitions.map { TopicPartition(topic: name, partition: $0.id) }
    }
    return try await committedOffsets(group: group, partitions: partitions, timeout: timeout)
  }

  /// The offsets `group` has committed on `partitions`, sorted; partitions without a
  /// commit are left out. No metadata request: for a caller that already knows the
  /// partitions and asks every few seconds.
  public func committedOffsets(group: String, partitions: [TopicPartition], timeout: Duration = .seconds(10))
    async throws(KafkaError) -> [TopicPartitionOffset]
  {
    if partitions.isEmpty { return [] }
    return try await perform { [partitions] handle throws(KafkaError) in
      let list = TopicPartitionList.make(partitions)
      defer { rd_kafka_topic_partition_list_destroy(list) }
      var request: [OpaquePointer?] = [rd_kafka_ListConsumerGroupOffsets_new(group, list)]
      defer { rd_kafka_ListConsumerGroupOffsets_destroy(request[0]) }
      let options = try adminOptions(handle, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, timeout: timeout)
      defer { rd_kafka_AdminOptions_destroy(options) }
      let event = try awaitAdminResult(handle, timeout: timeout, what: "read offsets of group '\(group)'") { queue in
        rd_kafka_ListConsumerGroupOffsets(handle, &request, 1, options, queue)
      }
      defer { rd_kafka_event_destroy(event) }
      var count = 0
      let groups = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(event), &count)
      guard count == 1, let result = groups?[0] else {
        throw KafkaError(code: .state, message: "group '\(group)': expected one result, got \(count)")
      }
      // The group's error belongs to the result event: read it, never destroy it.
      if let error = rd_kafka_group_result_error(result) {
        throw KafkaError(
          code: KafkaError.Code(rd_kafka_error_code(error)),
          message: "cannot read offsets of group '\(group)': \(String(cString: rd_kafka_error_string(error)))",
          isRetriable: rd_kafka_error_is_retriable(error) != 0 ? true : nil)
      }
      var offsets: [TopicPartitionOffset] = []
      for element in TopicPartitionList.read(rd_kafka_group_result_partitions(result)) {
        guard element.error == RD_KAFKA_RESP_ERR_NO_ERROR else {
          throw KafkaError.from(
            element.error, context: "cannot read offset of group '\(group)' for \(element.position.topicPartition)")
        }
        if element.position.offset >= 0 { offsets.append(element.position) }
      }
      return offsets.sorted { $0.topicPartition < $1.topicPartition }
    }
  }

  /// Destroys the client and ends its thread. Later calls throw `closed`. Idempotent.
  public func close() async {
    try? await io.run { () throws(KafkaError) in
      let first = self.closed.withLock { closed in
        defer { closed = true }
        return !closed
      }
      if first { self.client.destroy() }
    }
    await io.stop()
  }

  /// Runs `body` with the live handle on the admin thread.
  private func perform<T: Sendable>(
    _ body: @escaping @Sendable (OpaquePointer) throws(KafkaError) -> T
  ) async throws(KafkaError) -> T {
    try await io.run { () throws(KafkaError) -> T in
      guard !self.closed.withLock({ $0 }) else { throw KafkaError.closed("the Kafka admin client") }
      // Serve queued error/log events of the handle's main queue; nothing else polls it.
      rd_kafka_poll(self.client.handle, 0)
      return try body(self.client.handle)
    }
  }
}

/// Starts an Admin API request on a queue of its own and waits for its result event, so
/// a late result of an earlier, timed-out request can never be mistaken for this one.
/// Returns the event (the caller destroys it) after checking its request-level error.
private func awaitAdminResult(
  _ handle: OpaquePointer, timeout: Duration, what: String, start: (OpaquePointer) -> Void
) throws(KafkaError) -> OpaquePointer {
  guard let queue = rd_kafka_queue_new(handle) else {
    throw KafkaError(code: .state, message: "cannot \(what): librdkafka could not create a queue")
  }
  defer { rd_kafka_queue_destroy(queue) }
  start(queue)
  // The request times out by itself after `timeout`; the margin lets its error arrive.
  guard let event = rd_kafka_queue_poll(queue, clampedMilliseconds(timeout + .seconds(5))) else {
    throw KafkaError(code: .timedOut, message: "cannot \(what): no answer within \(timeout)")
  }
  let err = rd_kafka_event_error(event)
  if err != RD_KAFKA_RESP_ERR_NO_ERROR {
    let text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""
    rd_kafka_event_destroy(event)
    throw KafkaError(code: KafkaError.Code(err), message: "cannot \(what): \(text)")
  }
  return event
}

private func adminOptions(
  _ handle: OpaquePointer, _ op: rd_kafka_admin_op_t, timeout: Duration, operation: Bool = false
) throws(KafkaError) -> OpaquePointer {
  guard let options = rd_kafka_AdminOptions_new(handle, op) else {
    throw KafkaError(code: .invalidArgument, message: "librdkafka refused admin options")
  }
  var errstr = [CChar](repeating: 0, count: 512)
  var err = rd_kafka_AdminOptions_set_request_timeout(options, clampedMilliseconds(timeout), &errstr, errstr.count)
  // For CreateTopics the broker itself waits up to this long for the topics to exist
  // on every broker, so the topics are usable as soon as the call returns.
  if operation && err == RD_KAFKA_RESP_ERR_NO_ERROR {
    err = rd_kafka_AdminOptions_set_operation_timeout(options, clampedMilliseconds(timeout), &errstr, errstr.count)
  }
  guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
    rd_kafka_AdminOptions_destroy(options)
    throw KafkaError.from(err, context: "admin options: \(text(errstr))")
  }
  return options
}

private func makeNewTopic(_ topic: NewTopic) throws(KafkaError) -> OpaquePointer {
  // librdkafka checks counts but not names; a broker would reject a bad name only
  // after the round trip, and an empty one makes librdkafka wait for the timeout.
  let legal = topic.name.utf8.allSatisfy { byte in
    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
      || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".")
      || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
  }
  guard legal, (1...249).contains(topic.name.utf8.count), topic.name != ".", topic.name != ".." else {
    throw KafkaError(
      code: .invalidArgument,
      message: "invalid topic name '\(topic.name)': 1-249 characters of a-z, A-Z, 0-9, '.', '_', '-'")
  }
  // -1 asks for the broker's default; librdkafka 2.0.2 lets 0 through to the broker.
  guard topic.partitions >= 1 || topic.partitions == -1, topic.replicationFactor >= 1 || topic.replicationFactor == -1
  else {
    throw KafkaError(
      code: .invalidArgument,
      message: "topic '\(topic.name)': partitions (\(topic.partitions)) and replication factor "
        + "(\(topic.replicationFactor)) must be positive, or -1 for the broker's default")
  }
  var errstr = [CChar](repeating: 0, count: 512)
  guard
    let newTopic = rd_kafka_NewTopic_new(
      topic.name, topic.partitions, topic.replicationFactor, &errstr, errstr.count)
  else {
    throw KafkaError(code: .invalidArgument, message: "topic '\(topic.name)': \(text(errstr))")
  }
  for (key, value) in topic.config.sorted(by: { $0.key < $1.key }) {
    let err = rd_kafka_NewTopic_set_config(newTopic, key, value)
    if err != RD_KAFKA_RESP_ERR_NO_ERROR {
      rd_kafka_NewTopic_destroy(newTopic)
      throw KafkaError.from(err, context: "topic '\(topic.name)' config '\(key)'")
    }
  }
  return newTopic
}

private func errorCode(_ err: rd_kafka_resp_err_t) -> KafkaError.Code? {
  err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError.Code(err)
}

private func clampedMilliseconds(_ duration: Duration) -> Int32 {
  Int32(clamping: max(duration.milliseconds, 0))
}

/// The NUL-terminated text librdkafka wrote into an error buffer.
private func text(_ buffer: [CChar]) -> String {
  String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
