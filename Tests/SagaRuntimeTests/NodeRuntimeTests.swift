import Foundation
import GRDB
import SagaCore
import SagaKafka
import SagaRuntime
import SagaStorage
import SagaTestSupport
import ServiceLifecycle
import Testing

/// A role's extra task that does nothing until the node stops.
private final class IdleTask: Service, Sendable {
  func run() async throws {
    try? await gracefulShutdown()
  }
}

/// A node put together from the runtime alone, with the tests' own handler: the runtime
/// builds, orders and runs relays, workers and DLT workers without any service.
@Suite("NodeRuntime from RuntimeFactory", .timeLimit(.minutes(2)))
struct NodeRuntimeTests {
  @Test("tasks in order (relays, workers, DLT workers in catalogue order, role tasks); a record goes through")
  func assemblesAndRuns() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: silentLogger)
    defer { cluster.destroyInBackground() }
    for topic in TopicCatalog.allTopics { try cluster.createTopic(topic, partitions: 1) }
    let directory = try TemporaryDirectory()
    var settings = RuntimeSettings(stateDirectory: directory.path, bootstrapServers: cluster.bootstrapServers)
    settings.consumerProperties = ["session.timeout.ms": "4000", "heartbeat.interval.ms": "500"]
    let factory = try RuntimeFactory(settings: settings, logger: silentLogger)
    let database = try SagaDatabase(DatabaseQueue(), migrator: SagaDatabase.migrator(RecordingHandler.migrations))
    let relay = try factory.relay("test", database: database, timelineTables: [])
    let worker = try factory.worker(
      "test-worker", handler: RecordingHandler(), service: .points, database: database, relay: relay)
    let node = try factory.node(
      RoleParts(
        relays: [relay], workers: [worker], tasks: [SupervisedChild(name: "idle", kind: .sweeper, service: IdleTask())],
        deadLetterGroups: [.sagadDeadLetters, .pointsServiceDeadLetters]))
    #expect(node.deadLetterWorkers.map(\.name) == ["points-service-dlt", "sagad-dlt"])
    #expect(
      node.supervisor.snapshots().map(\.name) == [
        "relay-test", "test-worker", "points-service-dlt", "sagad-dlt", "idle",
      ])

    let task = Task { try await node.run() }
    try await produce(cluster, [reservationCompleted(1)])
    try await eventually("the record applied and its answer published", timeout: .seconds(30)) {
      try await appliedCount(database) == 1 && relay.statistics.sent == 1
    }
    #expect(worker.statistics.applied == 1)
    task.cancel()
    try? await task.value
  }

  @Test("an invalid retry policy is refused before any client is made")
  func refusesInvalidRetry() {
    var settings = RuntimeSettings(stateDirectory: "/nonexistent", bootstrapServers: "127.0.0.1:1")
    settings.retry.attempts = 0
    let error = #expect(throws: SagaError.self) { try RuntimeFactory(settings: settings, logger: silentLogger) }
    #expect(error?.field == "attempts")
  }
}
