import AdminProtocol
import Foundation
import SagaCore
import SagaKafka
import SagaTestSupport
import Testing

@testable import SagaDaemon

/// The lag sampler against an embedded cluster, with no consumer in the process: what a
/// Payments sagad sees of `points-service` while Points runs elsewhere or not at all.
@Suite("consumer lag sampler", .timeLimit(.minutes(2)))
struct ConsumerLagSamplerTests {
  static let reservations = SagaTopic.reservationCompleted.rawValue

  @Test("a group that never committed is NO-OFFSET, counted from the log start, not as zero; a commit ends it")
  func neverCommitted() async throws {
    let cluster = try EmbeddedKafkaCluster(logger: quietLogger)
    defer { cluster.destroyInBackground() }
    for topic in TopicCatalog.allTopics { try cluster.createTopic(topic, partitions: 2) }
    let producer = try KafkaProducer(
      configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
    for (partition, count) in [(Int32(0), 3), (1, 1)] {
      for index in 0..<count {
        let report = try await producer.send(
          KafkaProducerMessage(topic: Self.reservations, partition: partition, key: "k", value: "\(index)")
        ).report
        #expect(report.isPersisted)
      }
    }
    await producer.close()
    let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers, logger: quietLogger)
    defer { Task { await admin.close() } }
    let sampler = ConsumerLagSampler(
      watched: WatchedConsumerGroup.watched(by: [.payments]), consumers: [], window: 3, interval: .seconds(1),
      admin: admin, logger: quietLogger)

    await sampler.sample()
    let partner = sampler.rows().filter { $0.key.group == "points-service" }
    #expect(partner.map(\.key.topic) == [Self.reservations, Self.reservations])
    #expect(partner.map(\.reading.sample.lag) == [3, 1])
    #expect(partner.allSatisfy { $0.reading.neverCommitted && $0.reading.sample.committed == nil })
    #expect(partner.allSatisfy { $0.relation == .partner && $0.presence == .none && $0.reading.source == .broker })
    // The Payments role's own groups are there too, on every partition of their topics.
    let groups = Set(sampler.rows().map(\.key.group))
    #expect(groups == ["points-service", "payments-saga-tracker", "payment-compensation-service", "sagad-dlt"])
    #expect(sampler.rows().filter { $0.key.group == "sagad-dlt" }.count == 8)
    let snapshot = sampler.current
    let pointsOnReservations = ConsumerLagSampler.GroupTopic(group: "points-service", topic: Self.reservations)
    #expect(snapshot.uncommitted[pointsOnReservations] == 2)
    #expect(snapshot.lags[.init(group: "points-service", topic: Self.reservations, partition: 0)] == 3)

    // What an operator sees.
    let directory = try TemporaryDirectory()
    var commands = try AdminCommands.onBareDatabases(in: directory)
    let control = DaemonControl(notify: SdNotify(environment: [:]), shutdownTimeout: .seconds(5), logger: quietLogger)
    commands.daemon = DaemonAdmin(control: control, lag: sampler)
    let table = await commands.execute(try AdminRequest.parse("lag"))
    let row = try #require(
      table.lines.first { $0.cells.prefix(4) == ["points-service", "partner", Self.reservations, "0"] })
    #expect(row.cells.dropFirst(4) == ["3", "-", "3", "NO-OFFSET", "1", "none", "broker"])
    #expect(table.lines.last?.text.contains("never committed (NO-OFFSET, ") == true)
    let json = await commands.execute(try AdminRequest.parse("lag --json"))
    let document = try JSONDecoder().decode(AdminJSON.Lag.self, from: Data(try #require(json.json).utf8))
    let partition = try #require(document.partitions.first { $0.group == "points-service" && $0.partition == 0 })
    #expect(partition.neverCommitted && partition.status == "NO-OFFSET" && partition.committed == nil)
    #expect(partition.lag == 3 && partition.role == "partner" && partition.consumer == "none")

    // points-service commits on partition 0 only: that partition is judged, the other still has no offset.
    try await Self.commit(
      group: .pointsService, [TopicPartitionOffset(topic: Self.reservations, partition: 0, offset: 2)],
      cluster: cluster)
    await sampler.sample()
    let after = sampler.rows().filter { $0.key.group == "points-service" }
    #expect(after.map(\.reading.neverCommitted) == [false, true])
    #expect(after.map(\.reading.sample.committed) == [2, nil])
    #expect(after.map(\.reading.sample.lag) == [1, 1])
    #expect(sampler.current.uncommitted[pointsOnReservations] == 1)
  }

  @Test("the broker's reading: committed offset against the high watermark, or the log start without one")
  func reading() {
    let marks = PartitionWatermarks(low: 5, high: 12)
    let none = ConsumerLagSampler.reading(committed: nil, marks: marks)
    #expect(none.neverCommitted && none.sample.lag == 7 && none.sample.committed == nil)
    let some = ConsumerLagSampler.reading(committed: 9, marks: marks)
    #expect(!some.neverCommitted && some.sample.lag == 3 && some.sample.committed == 9)
    // A commit at the end (or past a truncated log's end) is caught up, never negative.
    #expect(ConsumerLagSampler.reading(committed: 14, marks: marks).sample.lag == 0)
  }

  @Test("an unreachable broker ends a sample (the admin timeouts) and leaves no reading")
  func unreachableBroker() async throws {
    // A port nothing listens on: bound, then closed.
    let port = try LoopbackPort.unused()
    let admin = try KafkaAdmin(bootstrapServers: "127.0.0.1:\(port)", logger: quietLogger)
    defer { Task { await admin.close() } }
    let sampler = ConsumerLagSampler(
      watched: WatchedConsumerGroup.watched(by: [.payments, .points]), consumers: [], window: 3,
      interval: .seconds(1), admin: admin, logger: quietLogger)
    // It returns at all: the metadata request gives up after its 2 s (how long that takes on a
    // loaded machine is not asserted; the suite's time limit catches a hang).
    await sampler.sample()
    #expect(sampler.rows().isEmpty)
    #expect(sampler.current.lags.isEmpty && sampler.current.uncommitted.isEmpty)
  }

  /// Commits `positions` for `group` as a member of it (the mock coordinator refuses others).
  static func commit(
    group: SagaConsumerGroup, _ positions: [TopicPartitionOffset], cluster: EmbeddedKafkaCluster
  ) async throws {
    var configuration = KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupId: group.rawValue)
    configuration.sessionTimeout = .seconds(4)
    configuration.heartbeatInterval = .milliseconds(500)
    let consumer = try KafkaConsumer(configuration: configuration, logger: quietLogger)
    do {
      try await consumer.subscribe(topics: Array(Set(positions.map(\.topic))))
      try await eventually("the committing consumer to hold \(positions)") {
        _ = try await consumer.poll(maxMessages: 100, timeout: .milliseconds(100))
        return Set(positions.map(\.topicPartition)).isSubset(of: consumer.currentAssignment)
      }
      try await consumer.commit(positions)
      await consumer.close()
    } catch {
      await consumer.close()
      throw error
    }
  }
}
