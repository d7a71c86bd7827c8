import Foundation
import SagaCore
import SagaKafka
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

@Suite("OutboxRelay with outbox.wake_on_commit off (the benchmarks' baseline)", .timeLimit(.minutes(2)))
struct OutboxRelayPollingTests {
  @Test("rows go out by polling every idle interval; a commit's wake-up does not hurry them")
  func pollsEveryIdleInterval() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: silentLogger)
    defer { cluster.destroyInBackground() }
    try cluster.createTopic("reservation-completed", partitions: 1)
    let dir = try TemporaryDirectory()
    let database = try SagaDatabase(StorageConfiguration(path: dir.path + "/payments.sqlite"))
    let producer = try KafkaProducer(
      configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: silentLogger)
    var settings = RelaySettings()
    settings.wakeOnCommit = false
    settings.idleInterval = .seconds(2)
    let relay = OutboxRelay(
      name: "payments", database: database, producer: producer, settings: settings, logger: silentLogger)
    func append(_ range: ClosedRange<Int>) async throws {
      try await database.write { db in
        for index in range {
          _ = try Outbox.append(
            OutboxMessage(topic: "reservation-completed", key: "k", payload: Array("m\(index)".utf8)), in: db)
        }
      }
    }
    func pending() async throws -> Int { try await database.read { db in try Outbox.pendingCount(in: db) } }

    // Rows waiting at start go out in the first poll.
    try await append(1...5)
    let task = start(relay)
    try await eventually("the first poll sends the rows already there") { try await pending() == 0 }

    // The relay sleeps a whole idle interval after a poll; rows committed now wait for the
    // next, even when their commit signals the relay as it does with wake_on_commit on.
    let appended = ContinuousClock.now
    try await append(6...10)
    relay.wakeup.signal()
    try await eventually("the next poll sends them", timeout: .seconds(10)) { try await pending() == 0 }
    let waited = ContinuousClock.now - appended
    #expect(waited >= .seconds(1), "sent after \(waited): the relay did not wait for its poll")
    #expect(relay.statistics.sent == 10)
    task.cancel()
    try? await task.value
    await producer.close()
    _ = dir
  }
}
