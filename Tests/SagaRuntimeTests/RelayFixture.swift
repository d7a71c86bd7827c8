import Foundation
import SagaCore
import SagaKafka
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

/// What an outbox relay test runs on: a one-broker cluster with a one-partition topic, a
/// payments database and a producer. The cluster is destroyed with the fixture.
final class RelayFixture {
  static let topic = "reservation-completed"
  let cluster: EmbeddedKafkaCluster
  let directory: TemporaryDirectory
  let database: SagaDatabase
  let producer: KafkaProducer

  /// `prepare` gets the database's path before it is opened (and migrated), to leave a
  /// database there as an earlier version would have.
  init(
    prepare: (String) throws -> Void = { _ in },
    producer configure: (inout KafkaProducerConfiguration) -> Void = { _ in }
  ) throws {
    cluster = try EmbeddedKafkaCluster(brokers: 1, logger: silentLogger)
    try cluster.createTopic(Self.topic, partitions: 1)
    directory = try TemporaryDirectory()
    try prepare(directory.path + "/payments.sqlite")
    database = try SagaDatabase(StorageConfiguration(path: directory.path + "/payments.sqlite"))
    var configuration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
    configure(&configuration)
    producer = try KafkaProducer(configuration: configuration, logger: silentLogger)
  }

  deinit { cluster.destroyInBackground() }

  func relay(settings: RelaySettings, failpoints: Failpoints = .disabled, deadLetters: DeadLetterStore? = nil)
    -> OutboxRelay
  {
    OutboxRelay(
      name: "payments", database: database, producer: producer, settings: settings, failpoints: failpoints,
      deadLetters: deadLetters, logger: silentLogger)
  }

  /// A dead-letter store beside the database, for the rows a relay cannot send.
  func deadLetterStore() throws -> DeadLetterStore {
    try DeadLetterStore(StorageConfiguration(path: directory.path + "/dlt.sqlite"))
  }

  /// Appends one outbox row per value, in one transaction.
  func append(_ values: some Sequence<String> & Sendable) async throws {
    try await database.write { db in
      for value in values {
        _ = try Outbox.append(OutboxMessage(topic: Self.topic, key: "k", payload: Array(value.utf8)), in: db)
      }
    }
  }

  func pendingCount() async throws -> Int {
    try await database.read { db in try Outbox.pendingCount(in: db) }
  }

  /// Ends the relay's run and closes the producer.
  func stop(_ task: Task<Void, any Error>) async {
    task.cancel()
    try? await task.value
    await producer.close()
  }

  /// The topic's values from the beginning, once `count` are there (`distinct`: counting
  /// each value once, in first-seen order), then whatever arrives within `settle` more.
  func readTopic(count: Int, distinct: Bool = false, settle: Duration? = nil) async throws -> [String] {
    var config = KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupId: "reader")
    config.sessionTimeout = .seconds(4)
    let consumer = try KafkaConsumer(configuration: config, logger: silentLogger)
    try await consumer.assign([TopicPartitionOffset(topic: Self.topic, partition: 0, offset: -2)])
    var seen: [String] = []
    try await eventually("\(count) records on the topic") {
      for message in try await consumer.poll(maxMessages: 500, timeout: .milliseconds(50)) {
        if let value = message.valueString, !distinct || !seen.contains(value) { seen.append(value) }
      }
      return seen.count >= count
    }
    if let settle {
      try await Task.sleep(for: settle)
      for value in try await consumer.poll(maxMessages: 500, timeout: .milliseconds(50)).compactMap(\.valueString)
      where !distinct || !seen.contains(value) {
        seen.append(value)
      }
    }
    await consumer.close()
    return seen
  }
}
