import Foundation
import Logging
import SagaKafka
import SagaTestSupport
import Synchronization
import Testing

/// The mock cluster as tests and `sagad dev-broker` use it. Observations go through
/// `KafkaAdmin`, a real client on the wire, never through the mock's own bookkeeping.
@Suite("EmbeddedKafkaCluster", .timeLimit(.minutes(2)))
struct EmbeddedKafkaClusterTests {
  @Test("N brokers numbered from 1, one bootstrap address each, all reachable")
  func brokersComeUp() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 3, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    #expect(cluster.brokerIDs == [1, 2, 3])
    let addresses = cluster.bootstrapServers.split(separator: ",")
    #expect(addresses.count == 3)
    #expect(addresses.allSatisfy { $0.contains(":") })

    let topic = uniqueName("replicated")
    try cluster.createTopic(topic, partitions: 6, replicationFactor: 3)
    let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers, logger: quietLogger)
    let listed = try #require(try await admin.listTopics().first { $0.name == topic })
    await admin.close()
    #expect(listed.partitions.map(\.id) == Array(0..<6))
    #expect(listed.partitions.allSatisfy { cluster.brokerIDs.contains($0.leader) && $0.replicas.count == 3 })
    // The mock spreads leaders over the brokers, so a broker outage hits some partitions only.
    #expect(Set(listed.partitions.map(\.leader)).count > 1)
  }

  @Test("creating a topic twice reports topicAlreadyExists and keeps the first one")
  func createTopicTwice() async throws {
    let cluster = try EmbeddedKafkaCluster(logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let topic = uniqueName("twice")
    try cluster.createTopic(topic, partitions: 2)
    let error = #expect(throws: KafkaError.self) { try cluster.createTopic(topic, partitions: 5) }
    #expect(error?.code == .topicAlreadyExists)

    let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers, logger: quietLogger)
    let listed = try await admin.listTopics().first { $0.name == topic }
    await admin.close()
    #expect(listed?.partitions.count == 2)
  }

  @Test("bad arguments are typed errors, not crashes")
  func invalidArguments() throws {
    #expect { _ = try EmbeddedKafkaCluster(brokers: 0, logger: quietLogger) } throws: { error in
      (error as? KafkaError)?.code == .invalidArgument
    }
    let cluster = try EmbeddedKafkaCluster(brokers: 2, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    #expect { try cluster.createTopic("zero", partitions: 0) } throws: { error in
      (error as? KafkaError)?.code == .invalidArgument
    }
    let unknown = #expect(throws: KafkaError.self) { try cluster.setBrokerDown(3) }
    #expect(unknown?.message.contains("no broker 3") == true)
    #expect(throws: KafkaError.self) { try cluster.setBrokerUp(0) }
  }

  @Test("a broker taken down stops answering; brought up, it answers again")
  func brokerDownAndUp() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let topic = uniqueName("outage")
    try cluster.createTopic(topic, partitions: 1)
    let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers, logger: quietLogger)
    let before = try await admin.watermarks(topic: topic, partition: 0)
    #expect(before.low == 0 && before.high == 0)

    try cluster.setBrokerDown(1)
    let error = await #expect(throws: KafkaError.self) {
      _ = try await admin.watermarks(topic: topic, partition: 0, timeout: .seconds(1))
    }
    #expect(error?.isRetriable == true)

    try cluster.setBrokerUp(1)
    try await eventually("the broker answers again") {
      (try? await admin.watermarks(topic: topic, partition: 0, timeout: .seconds(1))) != nil
    }
    await admin.close()
  }

  @Test("brokers go down and up while the process spawns children without pause, and it lives on")
  func downWhileSpawning() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 3, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    // Before `whileNoBrokerGoesDown`, a child holding a copy of a broker's listening socket as
    // it went down made librdkafka abort this whole process, here within the first cycles.
    let spawner = ChildSpawner()
    let thread = Thread { spawner.run() }
    thread.start()
    defer { spawner.stop() }
    try await eventually("the first child spawned") { spawner.spawned > 0 }
    let before = spawner.spawned
    for _ in 0..<8 {
      for id in cluster.brokerIDs { try cluster.setBrokerDown(id) }
      for id in cluster.brokerIDs { try cluster.setBrokerUp(id) }
    }
    spawner.stop()
    #expect(spawner.spawned > before, "children were spawned while the brokers went down")
  }

  @Test("a partition's leader can be moved to another broker")
  func leaderMoves() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 3, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let topic = uniqueName("leader")
    try cluster.createTopic(topic, partitions: 1, replicationFactor: 3)
    let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers, logger: quietLogger)
    let leader = try #require(try await admin.listTopics().first { $0.name == topic }?.partitions.first?.leader)
    let target = try #require(cluster.brokerIDs.first { $0 != leader })

    try cluster.setPartitionLeader(topic: topic, partition: 0, broker: target)
    let moved = try await admin.listTopics().first { $0.name == topic }?.partitions.first?.leader
    #expect(moved == target)
    await admin.close()
  }

  @Test("pushed request errors fail the next requests of that type; clearing them restores service")
  func requestErrors() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let topic = uniqueName("faults")
    try cluster.createTopic(topic, partitions: 1)
    let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers, logger: quietLogger)
    _ = try await admin.watermarks(topic: topic, partition: 0)

    // A non-retriable error, so the client reports it instead of retrying it away.
    let authorization = KafkaError.Code(rawValue: 29)  // TOPIC_AUTHORIZATION_FAILED
    try cluster.pushRequestErrors(apiKey: .listOffsets, errors: [authorization, authorization])
    let error = await #expect(throws: KafkaError.self) {
      _ = try await admin.watermarks(topic: topic, partition: 0, timeout: .seconds(5))
    }
    #expect(error?.code == authorization)

    try cluster.pushRequestErrors(apiKey: .listOffsets, errors: [authorization, authorization])
    try cluster.clearRequestErrors(apiKey: .listOffsets)
    let after = try await admin.watermarks(topic: topic, partition: 0, timeout: .seconds(5))
    #expect(after.high == 0)
    await admin.close()
  }

  @Test("destroy is idempotent and later calls report closed")
  func destroyTwice() async throws {
    let cluster = try EmbeddedKafkaCluster(logger: quietLogger)
    #expect(cluster.isRunning)
    await cluster.close()
    await cluster.close()
    #expect(!cluster.isRunning)
    #expect { try cluster.createTopic("late", partitions: 1) } throws: { error in
      (error as? KafkaError)?.code == .closed
    }
  }
}

/// Spawns `/bin/true` and waits for it, again and again on a thread of its own, until stopped.
private final class ChildSpawner: Sendable {
  private let stopped = Atomic(false)
  private let count = Atomic(0)

  var spawned: Int { count.load(ordering: .relaxed) }

  func run() {
    while !stopped.load(ordering: .relaxed) {
      _ = try? SpawnedProcess.run("/bin/true", [])
      count.add(1, ordering: .relaxed)
      // A breath between spawns, or this thread, taking the spawn lock again at once, would
      // leave the downs waiting for it.
      usleep(200)
    }
  }

  func stop() { stopped.store(true, ordering: .relaxed) }
}
