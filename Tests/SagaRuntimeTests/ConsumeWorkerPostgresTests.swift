import Foundation
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
    "a batch whose held writes the COMMIT refuses runs again record by record: the others applied, that one dead-lettered"
  )
  func commitFailureIsolates() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: silentLogger)
    defer { cluster.destroyInBackground() }
    for topic in TopicCatalog.sagaTopics { try cluster.createTopic(topic, partitions: 1) }
    let configuration = try await PostgresServer.suiteServer().freshDatabase()
    let opened = try await ServiceDatabase<StorageTablesSchema>.open(postgres: configuration, logger: quietLogger)
    let database = opened.storage
    try await database.closing {
      try await database.write { db in
        _ = try db.execute("CREATE TABLE applied (payment_id BIGINT PRIMARY KEY, paid BIGINT NOT NULL)")
        // Payment 3 is there already: its held insert breaks the key when the batch commits.
        _ = try db.execute("INSERT INTO applied (payment_id, paid) VALUES (3, 1)")
      }
      // Produced before the worker starts: one fetch, one batch, payment 3 last.
      try await produce(cluster, (1...3).map { reservationCompleted($0) })
      let handler = RecordingHandler()
      handler.defers.withLock { $0 = true }
      // No event: an outbox row would draw its id with a statement, which would carry the held
      // insert and fail inside the batch instead of at its COMMIT.
      handler.emits.withLock { $0 = false }
      let worker = ConsumeWorker(
        name: "points", consumer: try testConsumer(cluster, group: .pointsService), database: database,
        handler: handler, service: .points, logger: silentLogger)
      let task = start(worker)
      try await eventually("two records applied, one dead-lettered") {
        worker.statistics.applied == 2 && worker.statistics.deadLettered == 1
      }
      task.cancel()
      try? await task.value
      #expect(worker.statistics.isolatedReruns >= 1)
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
}
