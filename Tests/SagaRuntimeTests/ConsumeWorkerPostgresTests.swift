import Foundation
import MetricsTestKit
import SagaCore
import SagaKafka
import SagaStorage
import SagaTestSupport
import Testing

@testable import SagaRuntime

/// The consume loop on PostgreSQL, where a batch's last writes travel with its `COMMIT`
/// (Docs/storage-engines.md, "Round trips"): what fails there must still be pinned on a record.
@Suite("ConsumeWorker on PostgreSQL", .postgresServer, .timeLimit(.minutes(2)))
struct ConsumeWorkerPostgresTests {
  @Test(
    "a batch whose held writes the COMMIT refuses runs again record by record: the others applied, that one dead-lettered",
    arguments: [false, true])
  func commitFailureIsolates(oneStatement: Bool) async throws {
    try await withWorkerDatabase { cluster, database in
      // Payment 3 is there already: its held insert breaks the key when the batch commits.
      try await database.write { db in _ = try db.execute("INSERT INTO applied (payment_id, paid) VALUES (3, 1)") }
      // Produced before the worker starts, usually one fetch and one batch; a loaded host may
      // hand them on in two, so the counts below hold however the three were split.
      try await produce(cluster, (1...3).map { reservationCompleted($0) })
      let metrics = TestMetrics()
      let worker = try Self.worker(cluster, database, oneStatement: oneStatement, metrics: metrics)
      let task = start(worker)
      try await eventually("two records applied, one dead-lettered") {
        worker.statistics.applied == 2 && worker.statistics.deadLettered == 1
      }
      task.cancel()
      try? await task.value
      let statistics = worker.statistics
      // The one batch holding payment 3 ran again record by record; written as one statement
      // first, it failed whole there, then at its COMMIT. Any batch without it went through.
      #expect(statistics.isolatedReruns == 1 && Self.batches(metrics, "isolated") == 1, "\(statistics)")
      #expect(statistics.oneStatementFallbacks == (oneStatement ? 1 : 0), "\(statistics)")
      let others = Int64(statistics.batches - 1)
      #expect(Int64(statistics.oneStatementBatches) == (oneStatement ? others : 0), "\(statistics)")
      #expect(Self.batches(metrics, "one_statement") == Int64(statistics.oneStatementBatches))
      #expect(Self.batches(metrics, "transaction") == (oneStatement ? 0 : others))
      #expect(
        metrics.counterTotal(label: WorkerMetrics.batchFallbacks, dimensions: [("worker", "points")])
          == Int64(statistics.oneStatementFallbacks))
      let rows = try await database.read { db in
        try db.query("SELECT payment_id, paid FROM applied ORDER BY payment_id").map { row -> [Int64] in
          [try row.decode(0), try row.decode(1)]
        }
      }
      #expect(rows == [[1, 10_000], [2, 10_000], [3, 1]], "payment 3's row is the one from before")
      let outbox = try await database.read { db in try Outbox.pending(limit: 10, in: db) }
      #expect(outbox.count == 1)
      let letter = try #require(outbox.first { $0.topic == "reservation-completed.DLT" })
      let reason = letter.headers.first { $0.name == "kafka_dlt-exception-message" }?.text ?? ""
      #expect(reason.contains("23505"), "the unique key's refusal is the reason: \(reason)")
    }
  }

  @Test("a handler whose writes hold without locks has its batches written as one statement, redeliveries too")
  func batchesInOneStatement() async throws {
    try await withWorkerDatabase { cluster, database in
      let records = (1...5).map { reservationCompleted($0) }
      try await produce(cluster, records)
      let metrics = TestMetrics()
      let worker = try Self.worker(cluster, database, oneStatement: true, metrics: metrics)
      let task = start(worker)
      try await eventually("five records applied") { worker.statistics.applied == 5 }
      // The same records again (as after a crash before the offset commit): the inbox, read
      // with the batch's reads, knows them.
      try await produce(cluster, records)
      try await eventually("five duplicates") { worker.statistics.duplicates == 5 }
      task.cancel()
      try? await task.value
      let statistics = worker.statistics
      #expect(statistics.oneStatementBatches == statistics.batches && statistics.batches >= 2, "\(statistics)")
      #expect(statistics.oneStatementFallbacks == 0 && statistics.isolatedReruns == 0)
      #expect(Self.batches(metrics, "one_statement") == Int64(statistics.batches))
      #expect(Self.batches(metrics, "transaction") == 0)
      #expect(try await appliedCount(database) == 5)
      #expect(try await database.read { db in try Inbox.count(in: db) } == 5)
    }
  }

  @Test("a worker whose database stops waits for it, fails no record, says why in its statistics, and resumes")
  func waitsForStorage() async throws {
    // A server of its own: stopping the suite's would stop every other test's.
    let server = try await PostgresServer.start(durable: false)
    do {
      try await withWorkerDatabase(on: server) { cluster, database in
        let worker = try Self.worker(cluster, database, oneStatement: false, metrics: TestMetrics())
        let task = start(worker)
        try await produce(cluster, [reservationCompleted(1)])
        try await eventually("the first record applied") { worker.statistics.applied == 1 }

        await server.halt()
        try await produce(cluster, [reservationCompleted(2)])
        try await eventually("the worker waiting for its database") { worker.statistics.storageUnavailable != nil }
        let waiting = worker.statistics
        #expect(waiting.applied == 1 && waiting.deadLettered == 0 && waiting.retriesScheduled == 0, "\(waiting)")

        try await server.restartImmediately()
        try await eventually("the second record applied once the server is back") { worker.statistics.applied == 2 }
        let resumed = worker.statistics
        #expect(resumed.storageUnavailable == nil && resumed.deadLettered == 0, "\(resumed)")
        #expect(try await appliedCount(database) == 2)
        task.cancel()
        try? await task.value
      }
    } catch {
      Issue.record("PostgreSQL log:\n\(server.logText.suffix(2000))")
      await server.shutDown()
      throw error
    }
    await server.shutDown()
  }

  private static func batches(_ metrics: TestMetrics, _ write: String) -> Int64 {
    metrics.counterTotal(label: WorkerMetrics.batchesCommitted, dimensions: [("worker", "points"), ("write", write)])
  }

  /// A Points worker whose RecordingHandler writes `applied` held, with no events (an outbox
  /// row would draw its id with a statement, which would carry the held insert: its failure
  /// would come inside the batch instead of at its end).
  private static func worker(
    _ cluster: EmbeddedKafkaCluster, _ database: SagaDatabase, oneStatement: Bool, metrics: TestMetrics
  ) throws -> ConsumeWorker {
    let handler = RecordingHandler()
    handler.defers.withLock { $0 = true }
    handler.emits.withLock { $0 = false }
    handler.oneStatement.withLock { $0 = oneStatement }
    return ConsumeWorker(
      name: "points", consumer: try testConsumer(cluster, group: .pointsService), database: database,
      handler: handler, service: .points, metrics: metrics, logger: silentLogger)
  }

  /// A cluster with the saga's topics (one partition each) and a fresh database (on `server`,
  /// else the suite's) with the storage tables and `applied`, both gone when `body` returns.
  private func withWorkerDatabase(
    on server: PostgresServer? = nil, _ body: (EmbeddedKafkaCluster, SagaDatabase) async throws -> Void
  ) async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: silentLogger)
    defer { cluster.destroyInBackground() }
    for topic in TopicCatalog.sagaTopics { try cluster.createTopic(topic, partitions: 1) }
    let configuration = try await (server ?? PostgresServer.suiteServer()).freshDatabase()
    let opened = try await ServiceDatabase<StorageTablesSchema>.open(postgres: configuration, logger: quietLogger)
    let database = opened.storage
    try await database.closing {
      try await database.write { db in
        _ = try db.execute("CREATE TABLE applied (payment_id BIGINT PRIMARY KEY, paid BIGINT NOT NULL)")
      }
      try await body(cluster, database)
    }
  }
}
