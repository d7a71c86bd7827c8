import Foundation
import SagaKafka
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

@Suite("OutboxRelay pipelining", .timeLimit(.minutes(2)))
struct OutboxRelayPipelineTests {
  @Test("rows committed while earlier rounds await their reports go out once each, in id order")
  func manyRoundsInFlight() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: silentLogger)
    defer { cluster.destroy() }
    try cluster.createTopic("reservation-completed", partitions: 1)
    let dir = try TemporaryDirectory()
    let database = try SagaDatabase(StorageConfiguration(path: dir.path + "/payments.sqlite"))
    let producer = try KafkaProducer(
      configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: silentLogger)
    var settings = RelaySettings()
    settings.batchMax = 50  // a window smaller than what is appended, so the relay must refill it
    let relay = OutboxRelay(
      name: "payments", database: database, producer: producer, settings: settings, logger: silentLogger)
    let task = start(relay)

    // 40 commits of 5 rows, each waking the relay at once: rounds overlap.
    for commit in 0..<40 {
      try await database.write { db in
        for row in 0..<5 {
          _ = try Outbox.append(
            OutboxMessage(topic: "reservation-completed", key: "k", payload: Array("m\(commit * 5 + row)".utf8)),
            in: db)
        }
      }
      relay.wakeup.signal()
    }
    try await eventually("200 rows marked sent") {
      try await database.read { db in try Outbox.pendingCount(in: db) } == 0
    }
    #expect(relay.statistics.sent == 200 && relay.statistics.failedAttempts == 0)
    task.cancel()
    try? await task.value
    await producer.close()

    var config = KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupId: "reader")
    config.sessionTimeout = .seconds(4)
    let consumer = try KafkaConsumer(configuration: config, logger: silentLogger)
    try await consumer.assign([TopicPartitionOffset(topic: "reservation-completed", partition: 0, offset: -2)])
    var seen: [String] = []
    try await eventually("200 records on the topic") {
      for message in try await consumer.poll(maxMessages: 500, timeout: .milliseconds(50)) {
        if let value = message.valueString { seen.append(value) }
      }
      return seen.count >= 200
    }
    // A healthy broker: nothing re-sent, nothing skipped, nothing reordered.
    try await Task.sleep(for: .milliseconds(200))
    seen += try await consumer.poll(maxMessages: 500, timeout: .milliseconds(50)).compactMap(\.valueString)
    await consumer.close()
    #expect(seen == (0..<200).map { "m\($0)" })
    _ = dir
  }
}
