import Logging
import SagaKafka
import SagaTestSupport
import Testing

@Suite("KafkaConsumer on the embedded cluster", .timeLimit(.minutes(2)))
struct KafkaConsumerTests {
  private func produce(_ cluster: EmbeddedKafkaCluster, topic: String, values: [String], partition: Int32? = nil)
    async throws
  {
    let producer = try KafkaProducer(
      configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
    var tickets: [KafkaDeliveryTicket] = []
    for value in values {
      tickets.append(
        try await producer.send(KafkaProducerMessage(topic: topic, partition: partition, key: value, value: value)))
    }
    for ticket in tickets {
      let report = await ticket.report
      #expect(report.isPersisted, "\(report)")
    }
    await producer.close()
  }

  @Test("two members split the partitions; when one leaves the other takes over; nothing lost")
  func groupSplitsAndTakesOver() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let topic = uniqueName("split")
    let group = uniqueName("group")
    try cluster.createTopic(topic, partitions: 4)

    let a = try KafkaConsumer(configuration: testConsumerConfiguration(cluster, group: group), logger: quietLogger)
    let b = try KafkaConsumer(configuration: testConsumerConfiguration(cluster, group: group), logger: quietLogger)
    try await a.subscribe(topics: [topic])
    try await b.subscribe(topics: [topic])
    let inboxA = Inbox()
    let inboxB = Inbox()
    let loopA = pollLoop(a, into: inboxA)
    let loopB = pollLoop(b, into: inboxB)

    try await eventually("both members to own two partitions each") {
      a.currentAssignment.count == 2 && b.currentAssignment.count == 2
    }
    #expect(a.currentAssignment.isDisjoint(with: b.currentAssignment))
    #expect(a.currentAssignment.union(b.currentAssignment).count == 4)

    let first = (0..<40).map { "first-\($0)" }
    try await produce(cluster, topic: topic, values: first)
    try await eventually("all 40 records consumed across the two members") {
      await inboxA.values.union(inboxB.values).isSuperset(of: first)
    }
    let gotA = await inboxA.messages.count
    let gotB = await inboxB.messages.count
    #expect(gotA > 0 && gotB > 0, "both members got work")

    loopA.cancel()
    await loopA.value
    await a.close()
    try await eventually("b to take over all four partitions") { b.currentAssignment.count == 4 }

    let second = (0..<20).map { "second-\($0)" }
    try await produce(cluster, topic: topic, values: second)
    try await eventually("b to consume the records produced after a left") {
      await inboxB.values.isSuperset(of: second)
    }
    loopB.cancel()
    await loopB.value
    await b.close()
    let all = await inboxA.values.union(inboxB.values)
    #expect(all.isSuperset(of: first + second))
  }

  @Test("uncommitted records are redelivered to a restarted consumer, committed ones are not")
  func redeliveryAfterRestart() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let topic = uniqueName("redeliver")
    let group = uniqueName("group")
    try cluster.createTopic(topic, partitions: 1)
    try await produce(cluster, topic: topic, values: (0..<10).map { "m\($0)" })

    let first = try KafkaConsumer(configuration: testConsumerConfiguration(cluster, group: group), logger: quietLogger)
    try await first.subscribe(topics: [topic])
    let got = try await consume(first, count: 10)
    #expect(got.map(\.offset) == Array(0..<10))
    // Process only the first five: store and commit their position.
    try first.store(processed: Array(got.prefix(5)))
    try await first.commit()
    let committed = try await first.committed([TopicPartition(topic: topic, partition: 0)])
    #expect(committed.map(\.offset) == [5])
    await first.close()

    let second = try KafkaConsumer(configuration: testConsumerConfiguration(cluster, group: group), logger: quietLogger)
    try await second.subscribe(topics: [topic])
    let again = try await consume(second, count: 5)
    await second.close()
    #expect(again.map(\.offset) == Array(5..<10), "exactly the uncommitted records come back")
    #expect(again.map(\.valueString) == (5..<10).map { "m\($0)" })
  }

  @Test("leaving the group commits the stored positions through the final revoke")
  func revokeOnCloseCommitsStoredOffsets() async throws {
    // On a real broker the same revoke callback also commits during a rebalance. The
    // mock cluster refuses OffsetCommit while a group is rebalancing
    // (REBALANCE_IN_PROGRESS, where Kafka accepts it from the current generation), so
    // the revoke is driven here by leaving the group, which the mock handles like Kafka.
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let topic = uniqueName("revoke")
    let group = uniqueName("group")
    try cluster.createTopic(topic, partitions: 1)
    try await produce(cluster, topic: topic, values: (0..<6).map { "m\($0)" })

    let a = try KafkaConsumer(configuration: testConsumerConfiguration(cluster, group: group), logger: quietLogger)
    try await a.subscribe(topics: [topic])
    let got = try await consume(a, count: 6)
    try a.store(processed: Array(got.prefix(4)))  // stored, deliberately not committed
    await a.close()

    let b = try KafkaConsumer(configuration: testConsumerConfiguration(cluster, group: group), logger: quietLogger)
    try await b.subscribe(topics: [topic])
    let again = try await consume(b, count: 2)
    await b.close()
    #expect(again.map(\.offset) == [4, 5], "b starts right after a's stored position")
  }

  @Test("a paused partition is not fetched until resumed")
  func pauseAndResume() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let topic = uniqueName("pause")
    try cluster.createTopic(topic, partitions: 2)
    let consumer = try KafkaConsumer(
      configuration: testConsumerConfiguration(cluster, group: uniqueName("g")), logger: quietLogger)
    try await consumer.subscribe(topics: [topic])
    try await eventually("the assignment") {
      _ = try await consumer.poll(maxMessages: 1, timeout: .milliseconds(50))
      return consumer.currentAssignment.count == 2
    }
    let paused = TopicPartition(topic: topic, partition: 0)
    try await consumer.pause([paused])
    try await produce(cluster, topic: topic, values: ["p0-a", "p0-b"], partition: 0)
    try await produce(cluster, topic: topic, values: ["p1-a", "p1-b"], partition: 1)
    let fromOne = try await consume(consumer, count: 2)
    #expect(Set(fromOne.map(\.partition)) == [1], "records of the paused partition were held back")
    try await consumer.resume([paused])
    let fromZero = try await consume(consumer, count: 2)
    #expect(fromZero.map(\.valueString) == ["p0-a", "p0-b"])
    await consumer.close()
  }

  @Test("statistics report committed offset, high watermark and lag per partition")
  func statisticsReportLag() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let topic = uniqueName("lag")
    try cluster.createTopic(topic, partitions: 1)
    try await produce(cluster, topic: topic, values: (0..<10).map { "m\($0)" })
    var config = testConsumerConfiguration(cluster, group: uniqueName("g"))
    config.statisticsInterval = .milliseconds(100)
    let consumer = try KafkaConsumer(configuration: config, logger: quietLogger)
    try await consumer.subscribe(topics: [topic])
    let got = try await consume(consumer, count: 10)
    try consumer.store(processed: Array(got.prefix(4)))
    try await consumer.commit()
    try await eventually("statistics with committed offset 4 and lag 6") {
      _ = try await consumer.poll(maxMessages: 1, timeout: .milliseconds(50))
      guard let partition = consumer.statistics?.partitions.first(where: { $0.topic == topic }) else { return false }
      return partition.committedOffset == 4 && partition.highWatermark == 10 && partition.consumerLag == 6
    }
    await consumer.close()
  }
}
