import Foundation
import GRDB
import MetricsTestKit
import SagaCore
import SagaKafka
import SagaStorage
import SagaTestSupport
import Synchronization
import Testing

@testable import SagaRuntime

@Suite("ConsumeWorker on the embedded cluster", .timeLimit(.minutes(2)))
struct ConsumeWorkerTests {
  private func setUp() throws -> (EmbeddedKafkaCluster, SagaDatabase, TemporaryDirectory) {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: silentLogger)
    for topic in TopicCatalog.sagaTopics { try cluster.createTopic(topic, partitions: 2) }
    let dir = try TemporaryDirectory()
    let database = try SagaDatabase(
      StorageConfiguration(path: dir.path + "/points.sqlite"), migrations: RecordingHandler.migrations)
    return (cluster, database, dir)
  }

  @Test("a batch is applied once, its events land in the outbox, offsets are committed")
  func appliesBatch() async throws {
    let (cluster, database, dir) = try setUp()
    defer { cluster.destroyInBackground() }
    try await produce(cluster, (1...20).map { reservationCompleted($0) })
    let worker = ConsumeWorker(
      name: "points", consumer: try testConsumer(cluster, group: .pointsService), database: database,
      handler: RecordingHandler(), service: .points, logger: silentLogger)
    let task = start(worker)
    try await eventually("20 records applied") { try await appliedCount(database) == 20 }
    let outbox = try await database.read { db in try Outbox.pending(limit: 100, in: db) }
    #expect(outbox.count == 20)
    #expect(outbox.allSatisfy { $0.topic == SagaTopic.pointRewardCompleted.rawValue })
    #expect(outbox.allSatisfy { $0.headers.contains { $0.name == "producer" && $0.text == "sagad/points" } })
    task.cancel()
    try? await task.value
    _ = dir
  }

  /// A batch applied without writing to the outbox (Payments completing a saga) used to wake
  /// the relay all the same: one empty outbox read per batch, and on PostgreSQL a round trip
  /// that the next `pay` group's rows had to wait behind.
  @Test("only a batch that wrote outbox rows (events, dead letters) wakes the relay")
  func wakesRelayForOutboxRowsOnly() async throws {
    let (cluster, database, dir) = try setUp()
    defer { cluster.destroyInBackground() }
    let handler = RecordingHandler()
    handler.emits.withLock { $0 = false }
    let wakeup = Wakeup()
    // Each batch's signal as it stands once the batch is done (the hook runs after it).
    let seen = Mutex<[Bool]>([])
    let worker = ConsumeWorker(
      name: "points", consumer: try testConsumer(cluster, group: .pointsService), database: database,
      handler: handler, service: .points, relayHandoff: OutboxHandoff(wakeup: wakeup),
      hooks: WorkerHooks(afterDatabaseCommit: { _ in seen.withLock { $0.append(wakeup.isSignalled) } }),
      logger: silentLogger)
    let task = start(worker)
    try await produce(cluster, (1...5).map { reservationCompleted($0) })
    try await eventually("5 records applied without events") {
      try await appliedCount(database) == 5 && seen.withLock { $0.count } == worker.statistics.batches
    }
    #expect(seen.withLock { $0.allSatisfy { !$0 } })
    #expect(try await database.read { db in try Outbox.pending(limit: 10, in: db) }.isEmpty)
    // A dead letter is an outbox row too.
    try await produce(
      cluster, [KafkaProducerMessage(topic: "reservation-completed", partition: 0, key: "x", value: "not json")])
    try await eventually("the invalid record dead-lettered") {
      worker.statistics.deadLettered == 1 && seen.withLock { $0.last == true }
    }
    #expect(try await database.read { db in try Outbox.pending(limit: 10, in: db) }.count == 1)
    await wakeup.wait(timeout: .zero)
    #expect(!wakeup.isSignalled)
    handler.emits.withLock { $0 = true }
    try await produce(cluster, (6...10).map { reservationCompleted($0) })
    try await eventually("5 more applied, with events") {
      try await appliedCount(database) == 10 && seen.withLock { $0.last == true }
    }
    #expect(try await database.read { db in try Outbox.pending(limit: 10, in: db) }.count == 6)
    task.cancel()
    try? await task.value
    _ = dir
  }

  @Test("invalid records are dead-lettered with a reason and the records after them still apply")
  func permanentFailuresDoNotStall() async throws {
    let (cluster, database, dir) = try setUp()
    defer { cluster.destroyInBackground() }
    let bad: [KafkaProducerMessage] = [
      KafkaProducerMessage(topic: "reservation-completed", partition: 0, key: "x", value: "not json"),
      KafkaProducerMessage(
        topic: "reservation-completed", partition: 0, key: "y", value: "{\"paymentId\":1,\"userId\":2}"),
      KafkaProducerMessage(
        topic: "reservation-completed", partition: 0, key: "z",
        value: "{\"eventVersion\":\"2.0\",\"paymentId\":1,\"userId\":2,\"reservationId\":3,\"paidAmount\":4}"),
    ]
    var good = reservationCompleted(99)
    good.partition = 0
    try await produce(cluster, bad + [good])
    let worker = ConsumeWorker(
      name: "points", consumer: try testConsumer(cluster, group: .pointsService), database: database,
      handler: RecordingHandler(), service: .points, logger: silentLogger)
    let task = start(worker)
    try await eventually("the valid record after three invalid ones") { try await appliedCount(database) == 1 }
    let letters = try await database.read { db in
      try Outbox.pending(limit: 10, in: db).filter { $0.topic == "reservation-completed.DLT" }
    }
    let reasons = letters.compactMap { $0.headers.first { $0.name == "kafka_dlt-exception-message" }?.text }
    #expect(
      reasons.map { String($0.prefix { $0 != ":" }) } == ["invalid-json", "missing-field", "unsupported-version"])
    #expect(letters.map(\.key) == ["x", "y", "z"])
    try await eventually("the statistics updated") { worker.statistics.deadLettered == 3 }
    task.cancel()
    try? await task.value
    _ = dir
  }

  @Test("transient failures are retried in place, then from the schedule, and applied once")
  func transientFailuresRetry() async throws {
    let (cluster, database, dir) = try setUp()
    defer { cluster.destroyInBackground() }
    try await produce(cluster, (1...5).map { reservationCompleted($0) })
    let handler = RecordingHandler()
    handler.transientFailures.withLock { $0 = 2 }
    let policy = RetryPolicy(initialDelay: .milliseconds(50), jitter: 0)
    let clock = TestClock()
    // A metrics factory of this test's own: the process-wide one is shared by parallel tests.
    let metrics = TestMetrics()
    let worker = ConsumeWorker(
      name: "points", consumer: try testConsumer(cluster, group: .pointsService), database: database,
      handler: handler, service: .points, retry: policy, clock: SagaClock(clock), metrics: metrics,
      logger: silentLogger)
    let task = start(worker)
    // The in-place retry and the scheduled one each wait for the clock.
    try await clock.waitForSleepers("the in-place delay") { $0.count == 1 }
    await clock.advance(by: policy.inPlaceDelay)
    try await eventually("4 records applied, the failing one parked") {
      try await appliedCount(database) == 4 && worker.statistics.retryScheduleDepth == 1
    }
    // Whole milliseconds are stored: one more passes the due time for sure.
    await clock.advance(by: policy.initialDelay + .milliseconds(1))
    try await eventually("5 records applied, one after a scheduled retry") {
      try await appliedCount(database) == 5 && worker.statistics.retriedOK == 1
    }
    // Once in place, then parked and run again from the retry schedule.
    let stats = worker.statistics
    #expect(stats.retries == 2)
    #expect(stats.retriesScheduled == 1 && stats.retriedOK == 1)
    #expect(stats.deadLettered == 0 && stats.retryScheduleDepth == 0)
    // The same runs as the worker counted them for /metrics: each run once, by its result.
    func processed(_ result: String) -> Int64 {
      metrics.counterTotal(
        label: WorkerMetrics.eventsProcessed,
        dimensions: [("worker", "points"), ("topic", "reservation-completed"), ("result", result)])
    }
    #expect(processed("applied") == 5 && processed("retried") == 2)
    #expect(processed("duplicate") == 0 && processed("dead_lettered") == 0)
    #expect(metrics.counterTotal(label: WorkerMetrics.retriesScheduled, dimensions: [("worker", "points")]) == 1)
    let runs = try metrics.expectRecorder(WorkerMetrics.processingSeconds, [("worker", "points")])
    #expect(runs.values.count == 7)
    task.cancel()
    try? await task.value
    _ = dir
  }

  @Test("a crash between the database commit and the offset commit replays with no double effect")
  func crashWindowReplaysSafely() async throws {
    let (cluster, database, dir) = try setUp()
    defer { cluster.destroyInBackground() }
    try await produce(cluster, (1...10).map { reservationCompleted($0) })
    struct Crash: Error {}
    let crashing = ConsumeWorker(
      name: "points", consumer: try testConsumer(cluster, group: .pointsService), database: database,
      handler: RecordingHandler(), service: .points,
      hooks: WorkerHooks(afterDatabaseCommit: { _ in throw Crash() }), logger: silentLogger)
    // The first batch commits to the database, then the "crash" ends the worker
    // before any offset is stored or committed.
    await #expect(throws: Crash.self) { try await crashing.run() }
    let appliedBeforeRestart = try await appliedCount(database)
    #expect(appliedBeforeRestart > 0)

    let restarted = ConsumeWorker(
      name: "points", consumer: try testConsumer(cluster, group: .pointsService), database: database,
      handler: RecordingHandler(), service: .points, logger: silentLogger)
    let task = start(restarted)
    try await eventually("all 10 applied after the restart") { try await appliedCount(database) == 10 }
    try await eventually("the replayed batch recognised as duplicates") {
      restarted.statistics.duplicates == appliedBeforeRestart
    }
    let events = try await database.read { db in try Outbox.pendingCount(in: db) }
    #expect(events == 10, "one outgoing event per record, none doubled")
    task.cancel()
    try? await task.value
    _ = dir
  }
}
