import Logging
import SagaCore
import SagaKafka
import SagaTestSupport
import Testing

@Suite("KafkaProducer on the embedded cluster", .timeLimit(.minutes(2)))
struct KafkaProducerTests {
  @Test("produce → consume keeps key, value, headers, partition and offset")
  func roundTrip() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let topic = uniqueName("round-trip")
    try cluster.createTopic(topic, partitions: 2)

    let producer = try KafkaProducer(
      configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
    var sent: [KafkaProducerMessage] = []
    var reports: [KafkaDeliveryReport] = []
    for index in 0..<10 {
      let message = KafkaProducerMessage(
        topic: topic, key: "payment-\(index)", value: "{\"paymentId\":\(index)}",
        headers: [
          RecordHeader(name: "eventId", value: "id-\(index)"),
          RecordHeader(name: "traceparent", value: "00-\(index)"),
          RecordHeader(name: "empty", bytes: nil),
          RecordHeader(name: "eventId", value: "repeated-\(index)"),
        ])
      sent.append(message)
      reports.append(try await producer.send(message).report)
    }
    await producer.close()
    #expect(reports.allSatisfy { $0.status == .persisted && $0.error == nil && $0.offset != nil })

    let consumer = try KafkaConsumer(
      configuration: testConsumerConfiguration(cluster, group: uniqueName("g")), logger: quietLogger)
    try await consumer.subscribe(topics: [topic])
    let received = try await consume(consumer, count: 10)
    await consumer.close()

    #expect(received.count == 10)
    for (message, report) in zip(sent, reports) {
      let match = try #require(
        received.first { $0.keyString == message.key.map { String(decoding: $0, as: UTF8.self) } })
      #expect(match.value == message.value)
      #expect(match.headers == message.headers)
      #expect(match.headers.last(named: "eventId")?.text?.hasPrefix("repeated-") == true)
      #expect(match.partition == report.partition)
      #expect(match.offset == report.offset)
      #expect(match.timestampMilliseconds != nil)
      #expect(match.topic == topic)
    }
  }

  @Test("broker down: deliveries wait, then all persist once it is back")
  func brokerDownDelaysDelivery() async throws {
    let capture = LogCapture()
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let topic = uniqueName("outage")
    try cluster.createTopic(topic, partitions: 1)
    var config = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
    config.deliveryTimeout = nil
    let producer = try KafkaProducer(configuration: config, logger: capture.logger("producer"))

    // Warm up so the producer knows the partition leader before the outage.
    #expect(try await producer.send(KafkaProducerMessage(topic: topic, key: "k", value: "warm-up")).report.isPersisted)

    for id in cluster.brokerIDs { try cluster.setBrokerDown(id) }
    var tickets: [KafkaDeliveryTicket] = []
    for index in 0..<20 {
      tickets.append(try await producer.send(KafkaProducerMessage(topic: topic, key: "k", value: "m\(index)")))
    }
    // Wait until the client has noticed the outage, then check nothing failed.
    try await eventually("the producer to report the broker connection lost") {
      capture.contains { entry in
        entry.metadata["rdkafka.facility"] == "FAIL" || entry.message.contains("Disconnected")
          || entry.message.contains("brokers are down")
      }
    }
    #expect(producer.inFlight == 20)

    for id in cluster.brokerIDs { try cluster.setBrokerUp(id) }
    var offsets: [Int64] = []
    for ticket in tickets {
      let report = await ticket.report
      #expect(report.status == .persisted, "\(report)")
      offsets.append(report.offset ?? -1)
    }
    #expect(offsets == Array(1...20).map(Int64.init), "in order, nothing lost or doubled")
    try await producer.flush(timeout: .seconds(5))
    #expect(producer.inFlight == 0)
    await producer.close()
  }

  @Test("the in-flight bound suspends senders while every broker is down")
  func boundedQueueSuspends() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let topic = uniqueName("bounded")
    try cluster.createTopic(topic, partitions: 1)
    var config = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
    config.maxInFlightMessages = 10
    config.deliveryTimeout = nil
    let producer = try KafkaProducer(configuration: config, logger: quietLogger)
    #expect(try await producer.send(KafkaProducerMessage(topic: topic, key: "k", value: "warm-up")).report.isPersisted)

    for id in cluster.brokerIDs { try cluster.setBrokerDown(id) }
    let sender = Task { () throws -> [KafkaDeliveryTicket] in
      var tickets: [KafkaDeliveryTicket] = []
      for index in 0..<25 {
        tickets.append(try await producer.send(KafkaProducerMessage(topic: topic, key: "k", value: "m\(index)")))
      }
      return tickets
    }
    try await eventually("the 11th send to suspend at the bound") {
      producer.inFlight == 10 && producer.suspendedSenders == 1
    }
    #expect(producer.inFlightHighWater == 10)

    for id in cluster.brokerIDs { try cluster.setBrokerUp(id) }
    let tickets = try await sender.value
    var persisted = 0
    for ticket in tickets where await ticket.report.isPersisted { persisted += 1 }
    #expect(persisted == 25)
    #expect(producer.inFlightHighWater == 10, "the bound was never exceeded")
    await producer.close()
  }

  @Test("a sender suspended at the bound can be cancelled without leaking a slot")
  func cancelledSenderFreesNothing() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let topic = uniqueName("cancel")
    try cluster.createTopic(topic, partitions: 1)
    var config = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
    config.maxInFlightMessages = 2
    config.deliveryTimeout = nil
    let producer = try KafkaProducer(configuration: config, logger: quietLogger)
    #expect(try await producer.send(KafkaProducerMessage(topic: topic, key: "k", value: "warm-up")).report.isPersisted)
    for id in cluster.brokerIDs { try cluster.setBrokerDown(id) }
    let first = try await producer.send(KafkaProducerMessage(topic: topic, key: "k", value: "a"))
    let second = try await producer.send(KafkaProducerMessage(topic: topic, key: "k", value: "b"))
    let blocked = Task { try await producer.send(KafkaProducerMessage(topic: topic, key: "k", value: "c")) }
    try await eventually("the third send to suspend") { producer.suspendedSenders == 1 }
    blocked.cancel()
    await #expect(throws: KafkaError.self) { _ = try await blocked.value }
    #expect(producer.suspendedSenders == 0)
    #expect(producer.inFlight == 2)
    for id in cluster.brokerIDs { try cluster.setBrokerUp(id) }
    #expect(await first.report.isPersisted)
    #expect(await second.report.isPersisted)
    #expect(producer.inFlight == 0)
    await producer.close()
  }

  @Test("a closed producer refuses to send with a clear error")
  func closedProducerRefuses() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let producer = try KafkaProducer(
      configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
    await producer.close()
    let error = await #expect(throws: KafkaError.self) {
      _ = try await producer.send(KafkaProducerMessage(topic: "t", key: "k", value: "v"))
    }
    #expect(error?.code == .closed)
    #expect(error?.isRetriable == false)
  }

  @Test("an unknown librdkafka property is refused, naming the key")
  func badPropertyNamed() throws {
    var config = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1")
    config.overrides["no.such.property"] = "1"
    let error = #expect(throws: KafkaError.self) { _ = try KafkaProducer(configuration: config, logger: quietLogger) }
    #expect(error?.message.contains("no.such.property") == true)
  }
}
