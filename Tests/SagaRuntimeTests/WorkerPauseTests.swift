import Foundation
import SagaCore
import SagaKafka
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

@Suite("Pausing a consume worker on the embedded cluster", .timeLimit(.minutes(2)))
struct WorkerPauseTests {
  @Test("paused, a produced record is not applied while the worker keeps polling; resumed, it is")
  func pauseAndResume() async throws {
    try await withSupervisedWorker { cluster, database, worker, supervisor in
      try await produce(cluster, [reservationCompleted(1)])
      try await eventually("the first record applied") { try await appliedCount(database) == 1 }
      try await supervisor.pause("points")
      #expect(worker.isPaused)
      #expect(supervisor.snapshot("points")?.state == .paused)

      try await produce(cluster, [reservationCompleted(2), reservationCompleted(3)])
      // Many polls go by (the group membership stays alive) and nothing is applied.
      let beats = worker.heartbeat.count
      try await eventually("20 polls while paused") { worker.heartbeat.count > beats + 20 }
      #expect(try await appliedCount(database) == 1)
      #expect(!worker.assignment.isEmpty, "still a member of the group")

      try await supervisor.resume("points")
      #expect(supervisor.snapshot("points")?.state == .running)
      try await eventually("the records produced while paused applied after resume") {
        try await appliedCount(database) == 3
      }
    }
  }

  @Test("a restarted worker takes a fresh consumer, rejoins its group and stays paused")
  func restartKeepsPause() async throws {
    try await withSupervisedWorker { cluster, database, worker, supervisor in
      try await produce(cluster, [reservationCompleted(1)])
      try await eventually("the first record applied") { try await appliedCount(database) == 1 }

      try await supervisor.pause("points")
      try supervisor.restart("points")
      try await eventually("restarted and rejoined") {
        supervisor.snapshot("points")?.restarts == 1 && !worker.assignment.isEmpty
      }
      #expect(supervisor.snapshot("points")?.state == .paused)
      try await produce(cluster, [reservationCompleted(2)])
      let beats = worker.heartbeat.count
      try await eventually("20 polls while paused") { worker.heartbeat.count > beats + 20 }
      #expect(try await appliedCount(database) == 1)
      try await supervisor.resume("points")
      try await eventually("applied after resume") { try await appliedCount(database) == 2 }
    }
  }

  @Test("a pause survives rebalances: partitions assigned while paused are paused before their first fetch")
  func pauseSurvivesRebalance() async throws {
    try await withSupervisedWorker(restartable: false) { cluster, database, worker, supervisor in
      try await produce(cluster, [reservationCompleted(1)])
      try await eventually("the first record applied") { try await appliedCount(database) == 1 }
      let owned = worker.assignment.count
      try await supervisor.pause("points")

      // A second member joins: the group rebalances and the worker is assigned partitions anew.
      let other = try testConsumer(cluster, group: .pointsService)
      try await other.subscribe(topics: SagaConsumerGroup.pointsService.topics)
      let polling = Task {
        while !Task.isCancelled { _ = try? await other.poll(maxMessages: 10, timeout: .milliseconds(50)) }
      }
      try await eventually("the group rebalanced over two members") {
        !other.currentAssignment.isEmpty && worker.assignment.count < owned
      }
      try await produce(cluster, (2...7).map { reservationCompleted($0) })
      var beats = worker.heartbeat.count
      try await eventually("20 polls after the rebalance") { worker.heartbeat.count > beats + 20 }
      #expect(try await appliedCount(database) == 1, "nothing applied from the partitions assigned while paused")

      // The other member leaves without committing: its partition comes back, still paused.
      polling.cancel()
      await polling.value
      await other.close()
      try await eventually("the worker owns every partition again") { worker.assignment.count == owned }
      beats = worker.heartbeat.count
      try await eventually("20 more polls") { worker.heartbeat.count > beats + 20 }
      #expect(try await appliedCount(database) == 1)
      #expect(supervisor.snapshot("points")?.state == .paused)

      try await supervisor.resume("points")
      try await eventually("every record applied after resume") { try await appliedCount(database) == 7 }
    }
  }

  /// A points worker under a supervisor, on its own cluster (the saga's topics, two
  /// partitions each) and database; `restartable` gives it a fresh consumer per restart.
  /// The supervisor is stopped after `body`.
  private func withSupervisedWorker(
    restartable: Bool = true,
    _ body: (EmbeddedKafkaCluster, SagaDatabase, ConsumeWorker, Supervisor) async throws -> Void
  ) async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: silentLogger)
    defer { cluster.destroyInBackground() }
    for topic in TopicCatalog.sagaTopics { try cluster.createTopic(topic, partitions: 2) }
    let directory = try TemporaryDirectory()
    let database = try SagaDatabase(
      StorageConfiguration(path: directory.path + "/points.sqlite"), migrations: RecordingHandler.migrations)
    let worker = ConsumeWorker(
      name: "points", consumer: try testConsumer(cluster, group: .pointsService), database: database,
      handler: RecordingHandler(), service: .points,
      makeConsumer: restartable ? { @Sendable in try testConsumer(cluster, group: .pointsService) } : nil,
      logger: silentLogger)
    let supervisor = Supervisor(children: [.worker(worker)], logger: silentLogger)
    let task = start(supervisor)
    defer { task.cancel() }
    try await body(cluster, database, worker, supervisor)
    task.cancel()
    try? await task.value
    withExtendedLifetime(directory) {}
  }
}
