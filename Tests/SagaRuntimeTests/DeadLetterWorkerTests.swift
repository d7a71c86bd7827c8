import Foundation
import Logging
import SagaCore
import SagaKafka
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

/// The DLT worker on the embedded cluster: what lands on a `.DLT` topic is stored once,
/// whatever it holds, and reading the topic again stores nothing new.
@Suite("DLT worker", .timeLimit(.minutes(2)))
struct DeadLetterWorkerTests {
  static func dltRecord(offset: Int64, eventId: Bool) -> KafkaProducerMessage {
    reservationCompletedDeadLetter(
      originalOffset: offset, eventId: eventId, key: Array("7".utf8), value: Array("{oops".utf8),
      reason: "invalid-json: not a JSON object", errorType: "SagaCore.SagaError", attempts: 1,
      failureClass: "permanent")
  }

  @Test("every DLT record is stored once; a fresh group re-reading from offset 0 adds no row")
  func storesOnce() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: silentLogger)
    let directory = try TemporaryDirectory()
    let dlt = SagaTopic.reservationCompleted.deadLetterTopic
    try cluster.createTopic(dlt, partitions: 1)
    let store = try DeadLetterStore(StorageConfiguration(path: directory.path + "/dlt.sqlite"))
    var tasks: [Task<Void, any Error>] = []
    do {
      try await produce(
        cluster,
        [
          Self.dltRecord(offset: 10, eventId: true),
          // Not sagad's, no kafka_dlt headers, no value: still a dead letter to keep.
          KafkaProducerMessage(
            topic: dlt, key: [UInt8]?.none, value: [UInt8]?.none, headers: [RecordHeader(name: "x", bytes: nil)]),
          Self.dltRecord(offset: 11, eventId: false),
        ])
      let first = DeadLetterWorker(
        group: .pointsServiceDeadLetters, consumer: try testConsumer(cluster, group: .pointsServiceDeadLetters),
        store: store, logger: silentLogger)
      tasks.append(start(first))
      // The worker counts a batch right after the store commits it.
      try await eventually("three dead letters stored") {
        try await store.count() == 3 && first.statistics.stored == 3
      }

      // Another group: Kafka delivers every record again; the store keeps one row each.
      var config = KafkaConsumerConfiguration(
        bootstrapServers: cluster.bootstrapServers, groupId: "fresh-\(UUID().uuidString)")
      config.sessionTimeout = .seconds(4)
      let second = DeadLetterWorker(
        name: "again", group: .pointsServiceDeadLetters,
        consumer: try KafkaConsumer(configuration: config, logger: silentLogger), store: store, logger: silentLogger)
      tasks.append(start(second))
      try await eventually("the records delivered again") { second.statistics.duplicates == 3 }
      #expect(second.statistics.stored == 0)
      #expect(try await store.count() == 3)

      let letters = try await store.list(limit: 10)
      #expect(letters.map(\.offset) == [0, 1, 2])
      #expect(letters[0].originalCoordinates == "reservation-completed[0]@10")
      #expect(letters[0].reasonCode == "invalid-json")
      #expect(letters[0].eventId != nil)
      #expect(letters[1].reason == "unknown")
      #expect(letters[1].value == nil)
      #expect(letters[1].headers == [RecordHeader(name: "x", bytes: nil)])
      #expect(letters[2].eventId == nil)
      #expect(try await store.pendingCounts() == ["reservation-completed": 3])
    } catch {
      for task in tasks { task.cancel() }
      await cluster.close()
      throw error
    }
    for task in tasks { task.cancel() }
    for task in tasks { _ = try? await task.value }
    await cluster.close()
  }

  @Test("run again after it ended (a supervisor's restart): a fresh consumer, committed offsets kept")
  func restart() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: silentLogger)
    let directory = try TemporaryDirectory()
    try cluster.createTopic(SagaTopic.reservationCompleted.deadLetterTopic, partitions: 1)
    let store = try DeadLetterStore(StorageConfiguration(path: directory.path + "/dlt.sqlite"))
    let worker = DeadLetterWorker(
      group: .pointsServiceDeadLetters, consumer: try testConsumer(cluster, group: .pointsServiceDeadLetters),
      store: store, makeConsumer: { try testConsumer(cluster, group: .pointsServiceDeadLetters) },
      logger: silentLogger)
    var task = start(worker)
    do {
      try await produce(cluster, [Self.dltRecord(offset: 1, eventId: true)])
      try await eventually("the first dead letter stored") { try await store.count() == 1 }
      task.cancel()
      _ = try? await task.value
      #expect(worker.heartbeat.isStopped)

      task = start(worker)
      try await produce(cluster, [Self.dltRecord(offset: 2, eventId: true)])
      try await eventually("the second dead letter stored", timeout: .seconds(30)) { try await store.count() == 2 }
      #expect(worker.statistics.duplicates == 0)
      #expect(!worker.heartbeat.isStopped)
    } catch {
      task.cancel()
      await cluster.close()
      throw error
    }
    task.cancel()
    _ = try? await task.value
    await cluster.close()
  }
}
