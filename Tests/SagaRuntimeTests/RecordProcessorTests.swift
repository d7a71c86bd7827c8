import Foundation
import GRDB
import MetricsTestKit
import SagaCore
import SagaStorage
import SagaTestSupport
import Synchronization
import Testing

@testable import SagaRuntime

/// The retry decisions of one batch pass, without Kafka: what a transient failure becomes
/// at each attempt under a given policy.
@Suite("RecordProcessor decisions", .timeLimit(.minutes(1)))
struct RecordProcessorTests {
  private func record(_ paymentId: Int64) -> RecordProcessor.Record {
    let event = ReservationCompleted(paymentId: paymentId, userId: 7, reservationId: 1, paidAmount: 100)
    return RecordProcessor.Record(
      message: InboundMessage(
        topic: "reservation-completed", partition: 0, offset: paymentId, key: Array(event.messageKey.utf8),
        value: EventCodec.encode(event), headers: []),
      timestampType: nil)
  }

  /// A database with the handlers' tables in a temporary directory (alive as long as `dir`).
  private static func pointsDatabase() throws -> (dir: TemporaryDirectory, database: SagaDatabase) {
    let dir = try TemporaryDirectory()
    let database = try SagaDatabase(
      StorageConfiguration(path: dir.path + "/points.sqlite"), migrations: RecordingHandler.migrations)
    return (dir, database)
  }

  private func withProcessor(
    _ policy: RetryPolicy, failures: [Int64: Int],
    _ body: (RecordProcessor, SagaDatabase) async throws -> Void
  ) async throws {
    let (dir, database) = try Self.pointsDatabase()
    let processor = RecordProcessor(
      handler: ScriptedHandler(failures: failures), service: .points, policy: policy, logger: silentLogger)
    try await body(processor, database)
    _ = dir
  }

  @Test("all attempts in place: retried in place, then dead-lettered as exhausted, never parked")
  func allInPlace() async throws {
    try await withProcessor(RetryPolicy(attempts: 2, inPlaceAttempts: 2), failures: [1: .max]) { processor, db in
      let first = try await db.write { db in
        try processor.apply([record(1), record(2)], firstAttempt: 1, now: Date(), in: db)
      }
      #expect(first.retryInPlace?.index == 0 && first.retryInPlace?.attempt == 1)
      #expect(first.applied == 0, "nothing behind the failing record ran yet")
      let second = try await db.write { db in
        try processor.apply([record(1), record(2)], firstAttempt: 2, now: Date(), in: db)
      }
      #expect(second.retryInPlace == nil)
      #expect(second.deadLettered == 1 && second.parked == 0 && second.applied == 1)
      let depth = try await db.read { db in try RetrySchedule.count(in: db) }
      #expect(depth == 0)
    }
  }

  private struct Abort: Error {}

  @Test("metrics wait for the commit: a rolled-back batch counts nothing, its rerun each record once")
  func metricsAfterCommit() async throws {
    try await withProcessor(RetryPolicy(attempts: 1, inPlaceAttempts: 1), failures: [:]) { processor, db in
      // A factory of its own: the process-wide metrics system is shared by parallel tests.
      let metrics = TestMetrics()
      var counting = processor
      counting.metrics = WorkerMetrics(worker: "points", topics: ["reservation-completed"], factory: metrics)
      let processor = counting
      let applied = [("worker", "points"), ("topic", "reservation-completed"), ("result", "applied")]
      let processed = { metrics.counterTotal(label: WorkerMetrics.eventsProcessed, dimensions: applied) }
      let runs = { (try? metrics.expectRecorder(WorkerMetrics.processingSeconds, [("worker", "points")]))?.values }
      #expect(processed() == 0, "the series exist before the first record")
      // The worker drops a transaction's actions when its write throws (here: a rollback).
      let rolledBack = CommitActions()
      await #expect(throws: Abort.self) {
        try await db.write { db in
          _ = try processor.apply(
            [record(1), record(2)], firstAttempt: 1, now: Date(), in: db, afterCommit: rolledBack)
          throw Abort()
        }
      }
      #expect(processed() == 0)
      let committed = CommitActions()
      let result = try await db.write { db in
        try processor.apply([record(1), record(2)], firstAttempt: 1, now: Date(), in: db, afterCommit: committed)
      }
      #expect(result.applied == 2, "the rollback undid the first run's inbox claims")
      #expect(processed() == 0, "nothing is counted before the commit")
      #expect(runs()?.isEmpty ?? true)
      committed.run()
      #expect(processed() == 2)
      #expect(runs()?.count == 2)
      #expect(metrics.counterTotal(label: WorkerMetrics.eventsProcessed) == 2, "no other result counted")
    }
  }

  @Test("one attempt: a transient failure is dead-lettered at once as exhausted")
  func singleAttempt() async throws {
    try await withProcessor(RetryPolicy(attempts: 1, inPlaceAttempts: 1), failures: [1: .max]) { processor, db in
      let result = try await db.write { db in
        try processor.apply([record(1)], firstAttempt: 1, now: Date(), in: db)
      }
      #expect(result.retryInPlace == nil && result.deadLettered == 1)
      let letter = try await db.read { db in try Outbox.pending(limit: 10, in: db).first }
      #expect(letter?.message.headers.contains { $0.name == "sagad-failure-class" && $0.text == "exhausted" } == true)
      #expect(letter?.message.headers.contains { $0.name == "sagad-attempts" && $0.text == "1" } == true)
    }
  }

  @Test("one in-place attempt: parked straight away, due after the initial delay")
  func parkedAtOnce() async throws {
    let policy = RetryPolicy(attempts: 3, initialDelay: .seconds(5), jitter: 0, inPlaceAttempts: 1)
    try await withProcessor(policy, failures: [1: .max]) { processor, db in
      let now = Date(timeIntervalSince1970: 1_767_225_600)
      let result = try await db.write { db in
        try processor.apply([record(1)], firstAttempt: 1, now: now, in: db)
      }
      #expect(result.retryInPlace == nil && result.parked == 1)
      #expect(result.earliestDue == now.addingTimeInterval(5))
      let entries = try await db.read { db in try RetrySchedule.list(limit: 10, in: db) }
      #expect(entries.map(\.attempts) == [1])
    }
  }

  @Test("without savepoints a failure rolls the batch back; the isolated rerun does not run the failed record again")
  func optimisticThenIsolated() async throws {
    let (dir, database) = try Self.pointsDatabase()
    let handler = ScriptedHandler(failures: [2: 1])
    let policy = RetryPolicy(attempts: 3, initialDelay: .seconds(5), jitter: 0, inPlaceAttempts: 1)
    let processor = RecordProcessor(handler: handler, service: .points, policy: policy, logger: silentLogger)
    let batch: ArraySlice = [record(1), record(2), record(3)]
    let now = Date(timeIntervalSince1970: 1_767_225_600)
    let failure = await #expect(throws: NeedsIsolation.self) {
      try await database.write { db in
        try processor.apply(batch, firstAttempt: 1, now: now, in: db, isolated: false)
      }
    }
    #expect(failure?.index == 1 && failure?.failure.code == .injectedTransient)
    #expect(try await database.read { db in try Inbox.count(in: db) } == 0, "the rollback undid record 1's claim")
    let result = try await database.write { db in
      try processor.apply(batch, firstAttempt: 1, now: now, in: db, known: failure)
    }
    #expect(result.applied == 2 && result.parked == 1)
    #expect(handler.state.withLock { $0.runs } == [1: 2, 2: 1, 3: 1], "record 2 ran once, as if isolated at once")
    let entries = try await database.read { db in try RetrySchedule.list(limit: 10, in: db) }
    #expect(entries.map(\.attempts) == [1])
    _ = dir
  }

  @Test("without savepoints the batch's claims are one statement: a copy in the batch or a redelivery runs nothing")
  func optimisticClaims() async throws {
    let (dir, database) = try Self.pointsDatabase()
    let handler = ScriptedHandler(failures: [:])
    let processor = RecordProcessor(handler: handler, service: .points, policy: .standard, logger: silentLogger)
    let now = Date(timeIntervalSince1970: 1_767_225_600)
    let first = try await database.write { db in
      try processor.apply([record(1), record(2), record(1)], firstAttempt: 1, now: now, in: db, isolated: false)
    }
    #expect(first.applied == 2 && first.duplicates == 1)
    let second = try await database.write { db in
      try processor.apply([record(2), record(3)], firstAttempt: 1, now: now, in: db, isolated: false)
    }
    #expect(second.applied == 1 && second.duplicates == 1)
    #expect(handler.state.withLock { $0.runs } == [1: 1, 2: 1, 3: 1])
    #expect(try await database.read { db in try Inbox.count(in: db) } == 3)
    _ = dir
  }

  /// Payments 1, 2 and 3 in one batch on a connection that defers like PostgreSQL's: first without
  /// savepoints (expected to fail), then isolated with what that failure said.
  private func optimisticThenIsolated(
    _ handler: DeferringHandler, _ database: SagaDatabase
  ) async throws -> (NeedsIsolation?, RecordProcessor.BatchResult) {
    let processor = RecordProcessor(handler: handler, service: .points, policy: .standard, logger: silentLogger)
    let batch: ArraySlice = [record(1), record(2), record(3)]
    let now = Date(timeIntervalSince1970: 1_767_225_600)
    let failure = await #expect(throws: NeedsIsolation.self) {
      try await database.write { db in
        try processor.apply(batch, firstAttempt: 1, now: now, in: DeferringConnection(db), isolated: false)
      }
    }
    let result = try await database.write { db in
      try processor.apply(batch, firstAttempt: 1, now: now, in: DeferringConnection(db), known: failure)
    }
    return (failure, result)
  }

  @Test("a record's own statement that fails after the earlier record's writes went out is that record's failure")
  func ownFailureAttributed() async throws {
    let (dir, database) = try Self.pointsDatabase()
    let handler = DeferringHandler(breaking: 2)
    let (failure, result) = try await optimisticThenIsolated(handler, database)
    #expect(failure?.index == 1, "payment 1's write went out with payment 2's first statement")
    #expect(result.applied == 2 && result.deadLettered == 1)
    #expect(handler.runs.withLock { $0 } == [1: 2, 2: 1, 3: 1], "payment 2 is not run again")
    _ = dir
  }

  @Test("a deferred write that fails with a later record's statement is nobody's: the isolated rerun runs them all")
  func deferredFailureUnattributed() async throws {
    let (dir, database) = try Self.pointsDatabase()
    // Payment 2 is applied already: its handler's deferred INSERT breaks the primary key.
    try await database.write { db in _ = try db.execute("INSERT INTO applied (payment_id, paid) VALUES (2, 100)") }
    let handler = DeferringHandler()
    let (failure, result) = try await optimisticThenIsolated(handler, database)
    #expect(failure?.index == -1, "payment 2's write failed with payment 3's statement; neither is to blame")
    #expect(result.applied == 2 && result.deadLettered == 1)
    #expect(handler.runs.withLock { $0 } == [1: 2, 2: 2, 3: 2])
    let applied = try await database.read { db in
      try db.query("SELECT payment_id FROM applied ORDER BY payment_id").map { row -> Int64 in try row.decode(0) }
    }
    #expect(applied == [1, 2, 3])
    _ = dir
  }

  @Test(
    "a batch's shared rows are locked once for all its records: isolated first, else after its reads; a failure to lock is no record's"
  )
  func lockSharedFirst() async throws {
    let (dir, database) = try Self.pointsDatabase()
    let now = Date(timeIntervalSince1970: 1_767_225_600)
    let batch: ArraySlice = [record(1), record(2), record(3)]
    let handler = LockingHandler(failLock: true)
    let processor = RecordProcessor(handler: handler, service: .points, policy: .standard, logger: silentLogger)
    let failure = await #expect(throws: NeedsIsolation.self) {
      try await database.write { db in try processor.apply(batch, firstAttempt: 1, now: now, in: db, isolated: false) }
    }
    #expect(failure?.index == -1 && failure?.unattributed == true)
    handler.failLock.withLock { $0 = false }
    for (isolated, ids) in [(false, [Int64(1), 2, 3]), (true, [4, 5, 6])] {
      handler.calls.withLock { $0 = [] }
      let result = try await database.write { db in
        try processor.apply(ArraySlice(ids.map(record)), firstAttempt: 1, now: now, in: db, isolated: isolated)
      }
      #expect(result.applied == 3)
      let batch = ids.map(String.init).joined(separator: ",")
      let reads = isolated ? [] : ["prefetch " + batch]
      let expected = reads + ["lock " + batch] + ids.map { "handle \($0)" }
      #expect(handler.calls.withLock { $0 } == expected, "isolated: \(isolated)")
    }
    _ = dir
  }
}

/// Records when the loop asks it to lock and to handle.
private final class LockingHandler: SagaMessageHandler {
  let consumerGroup = SagaConsumerGroup.pointsService
  let calls = Mutex<[String]>([])
  let failLock: Mutex<Bool>

  init(failLock: Bool) { self.failLock = Mutex(failLock) }

  func lockShared(_ messages: [InboundMessage], in db: any SQLConnection) throws(SagaError) {
    if failLock.withLock({ $0 }) { throw SagaError(.databaseBusy, "lock timeout", failureClass: .transient) }
    calls.withLock { $0.append("lock " + messages.map { String($0.offset) }.joined(separator: ",")) }
  }

  func prefetch(_ messages: [InboundMessage], in db: any SQLConnection) throws(SagaError) -> (any Sendable)? {
    calls.withLock { $0.append("prefetch " + messages.map { String($0.offset) }.joined(separator: ",")) }
    return nil
  }

  func handle(_ message: InboundMessage, context: MessageContext, in db: any SQLConnection) throws(SagaError) {
    calls.withLock { $0.append("handle \(message.offset)") }
  }
}

/// Applies a payment with a deferred INSERT, as the services' steps and balances are.
private final class DeferringHandler: SagaMessageHandler {
  let consumerGroup = SagaConsumerGroup.pointsService
  let runs = Mutex<[Int64: Int]>([:])
  /// The payment whose handler runs a failing statement of its own (after its first one).
  let breaking: Int64?

  init(breaking: Int64? = nil) { self.breaking = breaking }

  func handle(_ message: InboundMessage, context: MessageContext, in db: any SQLConnection) throws(SagaError) {
    let event = try EventCodec.decode(ReservationCompleted.self, from: message.value ?? [])
    runs.withLock { $0[event.paymentId, default: 0] += 1 }
    do {
      // A statement of this record's own, which the previous record's held write rides with.
      _ = try db.query("SELECT COUNT(*) FROM applied")
      if event.paymentId == breaking {
        try db.execute("INSERT INTO applied (payment_id, paid) VALUES (?, 0)", [event.paymentId - 1])
      }
      // Last, as the services' saga steps: held until the next record's first statement.
      try db.executeDeferred(
        "INSERT INTO applied (payment_id, paid) VALUES (?, ?)", [event.paymentId, event.paidAmount])
    } catch {
      throw SagaError.storage(error)
    }
  }
}
