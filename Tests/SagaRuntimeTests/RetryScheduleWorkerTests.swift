import Foundation
import GRDB
import SagaCore
import SagaKafka
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Synchronization
import Testing

/// A handler whose failures are scripted per payment id: it counts every run, records the
/// order in which payments were applied, and what its `deadLettered` hook was told.
final class ScriptedHandler: SagaMessageHandler {
  struct State {
    /// Transient failures still to inject per payment; `Int.max` fails for ever.
    var failures: [Int64: Int] = [:]
    var runs: [Int64: Int] = [:]
    var appliedOrder: [Int64] = []
    var deadLettered: [(paymentId: Int64?, error: SagaError, attempts: Int)] = []
    /// Transient failures still to inject into the `deadLettered` hook.
    var hookFailures = 0
  }

  let consumerGroup = SagaConsumerGroup.pointsService
  let state: Mutex<State>

  init(failures: [Int64: Int] = [:]) {
    state = Mutex(State(failures: failures))
  }

  func handle(_ message: InboundMessage, context: MessageContext, in db: any SQLConnection) throws(SagaError) {
    let event = try EventCodec.decode(ReservationCompleted.self, from: message.value ?? [])
    let fail = state.withLock { state in
      state.runs[event.paymentId, default: 0] += 1
      let remaining = state.failures[event.paymentId, default: 0]
      guard remaining > 0 else { return false }
      if remaining != Int.max { state.failures[event.paymentId] = remaining - 1 }
      return true
    }
    if fail { throw SagaError(.injectedTransient, "scripted failure of payment \(event.paymentId)") }
    do {
      try db.execute("INSERT INTO applied (payment_id, paid) VALUES (?, ?)", [event.paymentId, event.paidAmount])
    } catch {
      throw SagaError.storage(error)
    }
    state.withLock { $0.appliedOrder.append(event.paymentId) }
  }

  func deadLettered(
    _ message: InboundMessage, error: SagaError, attempts: Int, context: MessageContext, in db: any SQLConnection
  ) throws(SagaError) {
    let paymentId = try? EventCodec.decode(ReservationCompleted.self, from: message.value ?? []).paymentId
    let fail = state.withLock { state in
      defer { state.hookFailures = max(state.hookFailures - 1, 0) }
      return state.hookFailures > 0
    }
    if fail { throw SagaError(.databaseBusy, "scripted hook failure", failureClass: .transient) }
    state.withLock { $0.deadLettered.append((paymentId, error, attempts)) }
  }

  var snapshot: State { state.withLock { $0 } }
}

@Suite("Retry schedule and dead letters in the consume worker", .timeLimit(.minutes(2)))
struct RetryScheduleWorkerTests {
  /// One partition per topic, so records keep one order.
  private func setUp() throws -> (EmbeddedKafkaCluster, SagaDatabase, TemporaryDirectory) {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: silentLogger)
    for topic in TopicCatalog.allTopics { try cluster.createTopic(topic, partitions: 1) }
    let dir = try TemporaryDirectory()
    let database = try SagaDatabase(
      StorageConfiguration(path: dir.path + "/points.sqlite"), migrations: RecordingHandler.migrations)
    return (cluster, database, dir)
  }

  /// No jitter: tests advance a test clock by exactly the delays.
  private static let quickPolicy = RetryPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(1), jitter: 0)
  /// Due times are stored in whole milliseconds: advancing one more passes them for sure.
  private static let storedPrecision = Duration.milliseconds(1)

  private func worker(
    _ cluster: EmbeddedKafkaCluster, _ database: SagaDatabase, _ handler: any SagaMessageHandler,
    retry: RetryPolicy = quickPolicy, failpoints: Failpoints = .disabled, clock: SagaClock = .continuous
  ) throws -> ConsumeWorker {
    ConsumeWorker(
      name: "points", consumer: try testConsumer(cluster, group: .pointsService), database: database,
      handler: handler, service: .points, retry: retry, failpoints: failpoints, clock: clock, logger: silentLogger)
  }

  private func parked(_ database: SagaDatabase) async throws -> [RetryEntry] {
    try await database.read { db in try RetrySchedule.list(limit: 10, in: db) }
  }

  private func deadLetters(_ database: SagaDatabase) async throws -> [OutboxMessage] {
    try await database.read { db in
      try Outbox.pending(limit: 100, in: db).map(\.message).filter { $0.topic.hasSuffix(".DLT") }
    }
  }

  private func scheduleDepth(_ database: SagaDatabase) async throws -> Int {
    try await database.read { db in try RetrySchedule.count(in: db) }
  }

  @Test("failing twice then succeeding: 3 runs, the healthy record behind it is applied first, no dead letter")
  func transientTwiceThenSuccess() async throws {
    let (cluster, database, dir) = try setUp()
    defer { cluster.destroyInBackground() }
    try await produce(cluster, [reservationCompleted(1), reservationCompleted(2)])
    let handler = ScriptedHandler(failures: [1: 2])
    let clock = TestClock()
    let worker = try worker(cluster, database, handler, clock: SagaClock(clock))
    let task = start(worker)
    // The second run waits the in-place delay on the clock, the third its due time.
    let inPlace = clock.now + Self.quickPolicy.inPlaceDelay
    try await clock.waitForSleepers("the in-place delay after the first run") { $0 == [inPlace] }
    #expect(handler.snapshot.runs[1] == 1)
    await clock.advance(by: Self.quickPolicy.inPlaceDelay)
    try await eventually("record 1 parked after its second run, record 2 applied") {
      let (depth, applied) = (try await scheduleDepth(database), try await appliedCount(database))
      return depth == 1 && applied == 1
    }
    let entry = try #require(try await parked(database).first)
    #expect(entry.attempts == 2)
    #expect((entry.dueAt.timeIntervalSince(entry.firstFailedAt) * 1000).rounded() == 100, "due initialDelay later")
    await clock.advance(by: Self.quickPolicy.initialDelay + Self.storedPrecision)
    try await eventually("both applied") {
      try await appliedCount(database) == 2 && worker.statistics.retriedOK == 1
    }
    let state = handler.snapshot
    #expect(state.runs[1] == 3, "twice in place, once from the schedule")
    #expect(state.runs[2] == 1)
    #expect(state.appliedOrder == [2, 1], "the record behind the failing one did not wait for its retry")
    #expect(state.deadLettered.isEmpty)
    #expect(try await deadLetters(database).isEmpty)
    #expect(try await scheduleDepth(database) == 0)
    let stats = worker.statistics
    #expect(stats.retriesScheduled == 1 && stats.retriedOK == 1 && stats.deadLettered == 0)
    task.cancel()
    try? await task.value
    _ = dir
  }

  @Test("always failing: parked once, dead-lettered as exhausted after the last attempt, the hook told once")
  func exhausted() async throws {
    let (cluster, database, dir) = try setUp()
    defer { cluster.destroyInBackground() }
    try await produce(cluster, [reservationCompleted(1), reservationCompleted(2)])
    let handler = ScriptedHandler(failures: [1: Int.max])
    let clock = TestClock()
    let worker = try worker(cluster, database, handler, clock: SagaClock(clock))
    let task = start(worker)
    try await clock.waitForSleepers("the in-place delay after the first run") { $0.count == 1 }
    await clock.advance(by: Self.quickPolicy.inPlaceDelay)
    try await eventually("record 1 parked after its second run") { try await scheduleDepth(database) == 1 }
    #expect(try await deadLetters(database).isEmpty, "the last attempt waits for its due time")
    await clock.advance(by: Self.quickPolicy.initialDelay + Self.storedPrecision)
    try await eventually("the dead letter") {
      try await deadLetters(database).count == 1 && worker.statistics.deadLettered == 1
    }
    #expect(try await appliedCount(database) == 1)
    let letter = try #require(try await deadLetters(database).first)
    let headers = Dictionary(letter.headers.map { ($0.name, $0.text) }, uniquingKeysWith: { first, _ in first })
    #expect(letter.topic == "reservation-completed.DLT")
    #expect(letter.key == "1")
    #expect(headers["sagad-attempts"] == "3")
    #expect(headers["sagad-failure-class"] == "exhausted")
    #expect(headers["kafka_dlt-exception-message"] == "injected-transient: scripted failure of payment 1")
    #expect(letter.headers.last { $0.name == "kafka_dlt-original-offset" }?.bytes == [0, 0, 0, 0, 0, 0, 0, 0])
    #expect(headers["kafka_dlt-original-timestamp-type"] == "CreateTime")
    #expect(headers["eventId"] != nil, "the original headers travel with the dead letter")
    let state = handler.snapshot
    #expect(state.runs[1] == 3)
    #expect(state.deadLettered.count == 1)
    #expect(state.deadLettered.first?.attempts == 3 && state.deadLettered.first?.error.isRetriable == true)
    #expect(try await scheduleDepth(database) == 0)
    let stats = worker.statistics
    #expect(stats.deadLettered == 1 && stats.retriesScheduled == 1 && stats.retryScheduleDepth == 0)
    task.cancel()
    try? await task.value
    _ = dir
  }

  @Test("a parked record survives a worker restart and runs when due, from the new worker")
  func survivesRestart() async throws {
    let (cluster, database, dir) = try setUp()
    defer { cluster.destroyInBackground() }
    try await produce(cluster, [reservationCompleted(1), reservationCompleted(2)])
    // Parked for an hour on the test clock: the first worker cannot run it before it stops;
    // the hour then passes while no worker runs.
    let slow = RetryPolicy(initialDelay: .seconds(3_600), maxDelay: .seconds(3_600), jitter: 0)
    let clock = TestClock()
    let sagaClock = SagaClock(clock)
    let first = try worker(cluster, database, ScriptedHandler(failures: [1: 2]), retry: slow, clock: sagaClock)
    let firstTask = start(first)
    try await clock.waitForSleepers("the in-place delay after the first run") { $0.count == 1 }
    await clock.advance(by: slow.inPlaceDelay)
    try await eventually("record 1 parked, record 2 applied") {
      let (depth, applied) = (try await scheduleDepth(database), try await appliedCount(database))
      return depth == 1 && applied == 1 && first.statistics.retryScheduleDepth == 1
    }
    #expect(first.statistics.retryScheduleDepth == 1)
    firstTask.cancel()
    try? await firstTask.value
    #expect(try await parked(database).map(\.attempts) == [2])
    await clock.advance(by: slow.initialDelay + Self.storedPrecision)

    // A new worker on the same database: it loads the schedule and runs the entry, now due.
    let handler = ScriptedHandler()
    let second = try worker(cluster, database, handler, retry: slow, clock: sagaClock)
    let secondTask = start(second)
    try await eventually("the parked record applied by the new worker") {
      try await appliedCount(database) == 2 && second.statistics.retriedOK == 1
    }
    #expect(try await scheduleDepth(database) == 0)
    #expect(handler.snapshot.runs == [1: 1], "only the parked record ran: its offset was committed with the batch")
    #expect(second.statistics.retriedOK == 1)
    secondTask.cancel()
    try? await secondTask.value
    _ = dir
  }

  @Test("a crash before the offset commit: the redelivered record is not dead-lettered twice")
  func crashWindowDeadLettersOnce() async throws {
    let (cluster, database, dir) = try setUp()
    defer { cluster.destroyInBackground() }
    let bad = KafkaProducerMessage(topic: "reservation-completed", partition: 0, key: "x", value: "not json")
    try await produce(cluster, [bad, reservationCompleted(1)])
    let failpoints = Failpoints(enabled: true)
    try failpoints.set(.consumerBeforeOffsetCommit, .errorTransient, trigger: .count(1))
    let handler = ScriptedHandler()
    let crashing = try worker(cluster, database, handler, failpoints: failpoints)
    // The batch commits in the database (dead letter + mark), then the failpoint ends the
    // worker before any offset is stored or committed.
    await #expect(throws: SagaError.self) { try await crashing.run() }
    #expect(try await deadLetters(database).count == 1)

    let restarted = try worker(cluster, database, handler, failpoints: failpoints)
    let task = start(restarted)
    // One partition: once the record behind it is done, the redelivered bad one was handled.
    try await eventually("the redelivered batch handled") {
      restarted.statistics.applied + restarted.statistics.duplicates >= 1
    }
    #expect(try await deadLetters(database).count == 1, "one dead letter, not two")
    #expect(handler.snapshot.deadLettered.count == 1, "the hook ran once")
    #expect(restarted.statistics.deadLettered == 0)
    #expect(try await database.read { db in try DeadLetters.count(in: db) } == 1)
    task.cancel()
    try? await task.value
    _ = dir
  }

  @Test("db.commit fails the batch transaction: nothing of it is kept, and the restart applies it once")
  func databaseCommitFailpoint() async throws {
    let (cluster, database, dir) = try setUp()
    defer { cluster.destroyInBackground() }
    try await produce(cluster, [reservationCompleted(1), reservationCompleted(2)])
    let failpoints = Failpoints(enabled: true)
    try failpoints.set(.dbCommit, .errorTransient, trigger: .count(1))
    let failing = try worker(cluster, database, ScriptedHandler(), failpoints: failpoints)
    await #expect(throws: SagaError.self) { try await failing.run() }
    #expect(try await appliedCount(database) == 0)
    #expect(try await database.read { db in try Outbox.pendingCount(in: db) + Inbox.count(in: db) } == 0)

    let restarted = try worker(cluster, database, ScriptedHandler(), failpoints: failpoints)
    let task = start(restarted)
    try await eventually("both applied after the restart") {
      try await appliedCount(database) == 2 && restarted.statistics.applied == 2
    }
    #expect(restarted.statistics.applied == 2)
    task.cancel()
    try? await task.value
    _ = dir
  }

  @Test("a dead-letter hook failing transiently parks the record; the dead letter is written once it succeeds")
  func deferredHook() async throws {
    let (cluster, database, dir) = try setUp()
    defer { cluster.destroyInBackground() }
    let bad = KafkaProducerMessage(topic: "reservation-completed", partition: 0, key: "x", value: "not json")
    try await produce(cluster, [bad, reservationCompleted(1)])
    let handler = ScriptedHandler()
    handler.state.withLock { $0.hookFailures = 1 }
    let worker = try worker(cluster, database, handler)
    let task = start(worker)
    try await eventually("the dead letter, after the hook's retry") {
      try await deadLetters(database).count == 1 && worker.statistics.deadLettered == 1
    }
    #expect(try await appliedCount(database) == 1)
    #expect(try await scheduleDepth(database) == 0)
    #expect(handler.snapshot.deadLettered.count == 1, "the hook's effects committed once")
    let letter = try #require(try await deadLetters(database).first)
    #expect(letter.headers.contains { $0.name == "sagad-failure-class" && $0.text == "permanent" })
    #expect(worker.statistics.retriesScheduled == 1)
    task.cancel()
    try? await task.value
    _ = dir
  }
}
