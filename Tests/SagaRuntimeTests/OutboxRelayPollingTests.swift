import Foundation
import MetricsTestKit
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
    let clock = TestClock()
    // A metrics factory of this test's own: the process-wide one is shared by parallel tests.
    let metrics = TestMetrics()
    let relay = OutboxRelay(
      name: "payments", database: database, producer: producer, settings: settings, clock: SagaClock(clock),
      metrics: metrics, logger: silentLogger)
    func append(_ range: ClosedRange<Int>) async throws {
      try await database.write { db in
        for index in range {
          _ = try Outbox.append(
            OutboxMessage(topic: "reservation-completed", key: "k", payload: Array("m\(index)".utf8)), in: db)
        }
      }
    }
    func pending() async throws -> Int { try await database.read { db in try Outbox.pendingCount(in: db) } }

    // Rows waiting at start go out in the first poll; then the relay sleeps an idle interval.
    try await append(1...5)
    let task = start(relay)
    let secondPoll = clock.now + settings.idleInterval
    try await clock.waitForSleepers("the relay asleep after its first poll") { $0 == [secondPoll] }
    #expect(try await pending() == 0, "the first poll sent the rows already there")

    // Rows committed now wait for the next poll, even when their commit signals the relay as
    // it does with wake_on_commit on: the signal does not end its sleep.
    try await append(6...10)
    relay.wakeup.signal()
    await clock.advance(by: settings.idleInterval - .milliseconds(1))
    #expect(clock.sleepers == [secondPoll], "still asleep just before the idle interval is over")
    #expect(try await pending() == 5)
    await clock.advance(by: .milliseconds(1))
    let thirdPoll = secondPoll + settings.idleInterval
    try await clock.waitForSleepers("the relay asleep after its second poll") { $0 == [thirdPoll] }
    #expect(try await pending() == 0, "the second poll sent them")
    #expect(relay.statistics.sent == 10)
    #expect(metrics.counterTotal(label: RelayMetrics.published, dimensions: [("service", "payments")]) == 10)
    #expect(try metrics.expectCounter(RelayMetrics.publishFailures, [("service", "payments")]).totalValue == 0)
    task.cancel()
    try? await task.value
    await producer.close()
    _ = dir
  }
}
