import Logging
import SagaKafka
import SagaTestSupport
import Testing

@Suite("KafkaAdmin on the embedded cluster", .timeLimit(.minutes(2)))
struct KafkaAdminTests {
  @Test("listTopics reports every topic with its partition count and leaders")
  func listTopics() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 2, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let counts: [String: Int32] = [uniqueName("one"): 1, uniqueName("three"): 3, uniqueName("five"): 5]
    for (topic, partitions) in counts { try cluster.createTopic(topic, partitions: partitions) }

    let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers, logger: quietLogger)
    let topics = try await admin.listTopics()
    await admin.close()
    #expect(topics.map(\.name) == topics.map(\.name).sorted())
    #expect(!topics.contains { $0.name.hasPrefix("__") })
    for (name, partitions) in counts {
      let topic = try #require(topics.first { $0.name == name }, "\(name) missing from \(topics.map(\.name))")
      #expect(topic.error == nil)
      #expect(topic.partitions.map(\.id) == Array(0..<partitions))
      #expect(topic.partitions.allSatisfy { cluster.brokerIDs.contains($0.leader) && $0.error == nil })
    }
  }

  @Test("brokers reports every broker and the cluster's id, by which the mock cluster is known")
  func brokersAndClusterID() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 2, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers, logger: quietLogger)
    let answer = try await admin.brokers()
    await admin.close()
    #expect(answer.brokers.map(\.id) == cluster.brokerIDs.sorted())
    let id = try #require(answer.clusterID)
    #expect(id.hasPrefix("mockCluster") && ClusterBrokers.isMockCluster(id: answer.clusterID))
    // Any other id is a real cluster's, and an absent one (brokers before 0.10.1) is not the mock's.
    #expect(!ClusterBrokers.isMockCluster(id: "x7QfR2sLTkuW9vC1pZ0aBg"))
    #expect(!ClusterBrokers.isMockCluster(id: ClusterBrokers(brokers: [], answeredBy: "b").clusterID))
  }

  /// librdkafka 2.0.2's mock broker does not implement CreateTopics (its header says
  /// so, and its ApiVersions answer leaves the request out); it also reports controller
  /// id 0, which is no broker, so librdkafka waits for a controller until the request
  /// times out. Against the embedded cluster `createTopics` must therefore fail with a
  /// clean, typed timeout instead of hanging or pretending; topics there are made with
  /// `EmbeddedKafkaCluster.createTopic`. Should a newer librdkafka's mock support the
  /// request, this test flags the change.
  @Test("createTopics against the mock fails cleanly: the mock lacks CreateTopics")
  func createTopicsUnsupportedByMock() async throws {
    let cluster = try EmbeddedKafkaCluster(logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers, logger: quietLogger)
    try await admin.createTopics([])  // nothing to do, no request sent

    // timedOut (not some other error) is what shows the 2 s timeout ended the call; how
    // long that took on a loaded machine is not this test's business.
    let error = await #expect(throws: KafkaError.self) {
      try await admin.createTopics([NewTopic(name: uniqueName("admin"), partitions: 2)], timeout: .seconds(2))
    }
    #expect(error?.code == .timedOut, "got \(String(describing: error))")
    #expect(error?.isRetriable == true)
    await admin.close()
  }

  @Test("invalid topic definitions are rejected before any request")
  func createTopicsValidates() async throws {
    let cluster = try EmbeddedKafkaCluster(logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers, logger: quietLogger)
    for bad in [
      NewTopic(name: "", partitions: 1), NewTopic(name: "a b", partitions: 1), NewTopic(name: "ok", partitions: 0),
    ] {
      let error = await #expect(throws: KafkaError.self, "\(bad)") {
        try await admin.createTopics([bad], timeout: .seconds(2))
      }
      #expect(error?.code == .invalidArgument, "\(bad): \(String(describing: error))")
    }
    await admin.close()
  }

  @Test("watermarks follow what was produced, per partition")
  func watermarksAfterProducing() async throws {
    let cluster = try EmbeddedKafkaCluster(logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let topic = uniqueName("marks")
    try cluster.createTopic(topic, partitions: 3)
    let producer = try KafkaProducer(
      configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
    for (partition, count) in [(Int32(0), 5), (1, 2)] {
      for index in 0..<count {
        let message = KafkaProducerMessage(topic: topic, partition: partition, key: "k\(index)", value: "v\(index)")
        let report = try await producer.send(message).report
        #expect(report.isPersisted)
      }
    }
    await producer.close()

    let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers, logger: quietLogger)
    for (partition, high) in [(Int32(0), Int64(5)), (1, 2), (2, 0)] {
      let marks = try await admin.watermarks(topic: topic, partition: partition)
      #expect(marks.low == 0 && marks.high == high, "partition \(partition): \(marks)")
    }
    // All partitions in one call, as the lag sampler asks.
    let partitions = (Int32(0)..<3).map { TopicPartition(topic: topic, partition: $0) }
    #expect(
      try await admin.watermarks(of: partitions) == [
        partitions[0]: PartitionWatermarks(low: 0, high: 5), partitions[1]: PartitionWatermarks(low: 0, high: 2),
        partitions[2]: PartitionWatermarks(low: 0, high: 0),
      ])
    #expect(try await admin.watermarks(of: []).isEmpty)
    // No check of an absent topic here: the mock speaks Metadata v2, which has no
    // AllowAutoTopicCreation flag, so it creates any topic a client asks about, while a
    // real broker honours the admin client's allow.auto.create.topics=false.
    let missing = await #expect(throws: KafkaError.self) {
      _ = try await admin.watermarks(topic: topic, partition: 7, timeout: .seconds(5))
    }
    #expect(missing != nil)
    await admin.close()
  }

  @Test("committedOffsets reads what a group committed, and nothing for an idle group")
  func committedOffsets() async throws {
    let cluster = try EmbeddedKafkaCluster(logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let topic = uniqueName("commits")
    let other = uniqueName("untouched")
    try cluster.createTopic(topic, partitions: 2)
    try cluster.createTopic(other, partitions: 1)
    let producer = try KafkaProducer(
      configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
    for (partition, count) in [(Int32(0), 4), (1, 2)] {
      for index in 0..<count {
        _ = try await producer.send(
          KafkaProducerMessage(topic: topic, partition: partition, key: "k", value: "\(index)")
        ).report
      }
    }
    await producer.close()

    let group = uniqueName("group")
    let consumer = try KafkaConsumer(
      configuration: testConsumerConfiguration(cluster, group: group), logger: quietLogger)
    try await consumer.subscribe(topics: [topic])
    let received = try await consume(consumer, count: 6)
    _ = try consumer.store(processed: received)
    try await consumer.commit()
    await consumer.close()

    let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers, logger: quietLogger)
    let expected = [
      TopicPartitionOffset(topic: topic, partition: 0, offset: 4),
      TopicPartitionOffset(topic: topic, partition: 1, offset: 2),
    ]
    #expect(try await admin.committedOffsets(group: group, topics: [topic, other]) == expected)
    #expect(try await admin.committedOffsets(group: group) == expected)
    #expect(try await admin.committedOffsets(group: uniqueName("idle"), topics: [topic]).isEmpty)
    let partitions = [TopicPartition(topic: topic, partition: 0), TopicPartition(topic: topic, partition: 1)]
    #expect(try await admin.committedOffsets(group: group, partitions: partitions) == expected)
    #expect(try await admin.committedOffsets(group: group, partitions: [partitions[1]]) == [expected[1]])
    #expect(try await admin.committedOffsets(group: uniqueName("idle"), partitions: partitions).isEmpty)
    let error = await #expect(throws: KafkaError.self) {
      _ = try await admin.committedOffsets(group: group, topics: [uniqueName("absent")])
    }
    #expect(error?.code == .unknownTopicOrPartition)
    await admin.close()
  }

  @Test("close is idempotent; calls after it report closed")
  func closeTwice() async throws {
    let cluster = try EmbeddedKafkaCluster(logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers, logger: quietLogger)
    await admin.close()
    await admin.close()
    let error = await #expect(throws: KafkaError.self) { _ = try await admin.listTopics() }
    #expect(error?.code == .closed)
  }
}
