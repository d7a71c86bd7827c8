import Foundation
import SagaCore
import SagaKafka
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

@Suite("outbox.publish failpoint on the embedded cluster", .timeLimit(.minutes(2)))
struct OutboxFailpointTests {
  @Test("error(transient) count 3 at outbox.publish: rows stay pending, then all go out once it clears")
  func injectedPublishErrorsLoseNothing() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: silentLogger)
    defer { cluster.destroy() }
    try cluster.createTopic("reservation-completed", partitions: 1)
    let dir = try TemporaryDirectory()
    let database = try SagaDatabase(StorageConfiguration(path: dir.path + "/payments.sqlite"))
    let producer = try KafkaProducer(
      configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: silentLogger)
    var settings = RelaySettings()
    // Long enough that the rows are still pending when the test looks after the first failure.
    settings.initialBackoff = .milliseconds(300)
    settings.maxBackoff = .milliseconds(600)
    let failpoints = Failpoints(enabled: true)
    try failpoints.set(.outboxPublish, .errorTransient, trigger: .count(3))
    let relay = OutboxRelay(
      name: "payments", database: database, producer: producer, settings: settings, failpoints: failpoints,
      logger: silentLogger)

    try await database.write { db in
      for index in 1...5 {
        _ = try Outbox.append(
          OutboxMessage(topic: "reservation-completed", key: "k", payload: Array("m\(index)".utf8)), in: db)
      }
    }
    let task = start(relay)
    relay.wakeup.signal()
    try await eventually("the first injected failure") { failpoints.list().first.map { $0.fired >= 1 } ?? true }
    #expect(try await database.read { db in try Outbox.pendingCount(in: db) } == 5, "nothing sent, nothing lost")
    #expect(relay.statistics.lastError?.contains("failpoint outbox.publish") == true)

    try await eventually("all rows sent once the failpoint disarmed") {
      try await database.read { db in try Outbox.pendingCount(in: db) } == 0
    }
    #expect(failpoints.list().isEmpty, "disarmed after 3 firings")
    task.cancel()
    try? await task.value
    await producer.close()

    // The topic holds each row exactly once, in id order.
    var config = KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupId: "reader")
    config.sessionTimeout = .seconds(4)
    let consumer = try KafkaConsumer(configuration: config, logger: silentLogger)
    try await consumer.assign([TopicPartitionOffset(topic: "reservation-completed", partition: 0, offset: -2)])
    var seen: [String] = []
    try await eventually("5 records on the topic") {
      for message in try await consumer.poll(maxMessages: 100, timeout: .milliseconds(50)) {
        if let value = message.valueString { seen.append(value) }
      }
      return seen.count >= 5
    }
    await consumer.close()
    #expect(seen == (1...5).map { "m\($0)" })
    _ = dir
  }
}
