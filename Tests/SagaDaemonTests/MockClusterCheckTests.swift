import SagaKafka
import SagaRuntime
import SagaTestSupport
import Testing

@testable import SagaDaemon

/// The consumer defaults a node picks at start: the mock cluster's shorter fetch wait only
/// against the mock, asked only when the answer matters.
@Suite("MockClusterCheck: which consumer defaults fit the brokers", .timeLimit(.minutes(2)))
struct MockClusterCheckTests {
  private func probe(_ bootstrap: String, timeout: Duration = .seconds(2)) throws -> BrokerProbe {
    BrokerProbe(
      bootstrapServers: bootstrap, admin: try KafkaAdmin(bootstrapServers: bootstrap, logger: quietLogger),
      interval: .seconds(1), timeout: timeout)
  }

  @Test("a cluster that names itself mockCluster gets the mock's defaults; the node's factory then uses them")
  func mockCluster() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let probe = try probe(cluster.bootstrapServers)
    let mock = await MockClusterCheck.run(embedded: false, configured: [:], probe: probe, logger: quietLogger)
    await probe.close()
    #expect(mock)
    #expect(probe.snapshot.clusterID?.hasPrefix("mockCluster") == true)
    var settings = RuntimeSettings(stateDirectory: "/nonexistent", bootstrapServers: cluster.bootstrapServers)
    #expect(settings.consumerDefaults["fetch.wait.max.ms"] == "10")
    #expect(settings.deadLetterConsumerDefaults["fetch.wait.max.ms"] == "100")
    settings.mockCluster = mock
    #expect(settings.consumerDefaults["fetch.wait.max.ms"] == "3")
    // Dead letters wait for an operator, not a saga: their consumers keep the long wait.
    #expect(settings.deadLetterConsumerDefaults["fetch.wait.max.ms"] == "100")
  }

  @Test("embedded or a configured fetch wait: decided without asking the cluster")
  func decidedWithoutAsking() async throws {
    let probe = try probe("127.0.0.1:1")
    #expect(await MockClusterCheck.run(embedded: true, configured: [:], probe: probe, logger: quietLogger))
    #expect(
      !(await MockClusterCheck.run(
        embedded: false, configured: ["fetch.wait.max.ms": "50"], probe: probe, logger: quietLogger)))
    #expect(probe.snapshot.checkedAt == nil)
    await probe.close()
  }

  @Test("a cluster that does not answer at start gets the defaults that work on any broker")
  func unanswered() async throws {
    let probe = try probe("127.0.0.1:1", timeout: .milliseconds(300))
    #expect(!(await MockClusterCheck.run(embedded: false, configured: [:], probe: probe, logger: quietLogger)))
    #expect(probe.snapshot.checkedAt != nil && probe.snapshot.lastError != nil)
    await probe.close()
  }
}
