import AdminProtocol
import Foundation
import SagaKafka
import SagaTestSupport
import Testing

@testable import SagaDaemon

/// Broker reachability in `status`: the probe's metadata answers, a cluster that stops
/// answering, and `status` answering at once while a probe waits on a dead address.
@Suite("Admin: status shows broker reachability", .timeLimit(.minutes(2)))
struct AdminStatusBrokersTests {
  private func commands(_ directory: TemporaryDirectory, probe: BrokerProbe) throws -> AdminCommands {
    var commands = try AdminCommands.onBareDatabases(in: directory)
    let control = DaemonControl(notify: SdNotify(environment: [:]), shutdownTimeout: .seconds(30), logger: quietLogger)
    commands.daemon = DaemonAdmin(control: control, lag: nil, brokers: probe)
    return commands
  }

  /// Every line of a reply, the body's and the final one's.
  private static func all(_ reply: AdminReply) -> String {
    reply.lines.map(\.text).joined(separator: "\n")
  }

  private func status(_ commands: AdminCommands) async throws -> (AdminReply, AdminJSON.Kafka) {
    let text = await commands.execute(try AdminRequest.parse("status"))
    let json = await commands.execute(try AdminRequest.parse("status --json"))
    let document = try JSONDecoder().decode(AdminJSON.Status.self, from: Data(try #require(json.json).utf8))
    return (text, try #require(document.kafka))
  }

  @Test("status: reachable with the brokers the cluster reports, then UNREACHABLE with the error once it stops")
  func reachableThenNot() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 3, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let directory = try TemporaryDirectory()
    let probe = BrokerProbe(
      bootstrapServers: cluster.bootstrapServers,
      admin: try KafkaAdmin(bootstrapServers: cluster.bootstrapServers, logger: quietLogger),
      interval: .seconds(1), timeout: .seconds(1))
    let commands = try commands(directory, probe: probe)

    let (before, unprobed) = try await status(commands)
    #expect(!unprobed.reachable && unprobed.lastCheckSecondsAgo == nil)
    #expect(Self.all(before).contains("kafka: UNREACHABLE (not probed yet"), "\(Self.all(before))")

    await probe.probe()
    let (text, kafka) = try await status(commands)
    #expect(kafka.reachable)
    #expect(kafka.brokers.map(\.id) == [1, 2, 3])
    #expect(kafka.bootstrapServers == cluster.bootstrapServers.split(separator: ",").map(String.init))
    #expect(kafka.lastError == nil && kafka.lastAnswerSecondsAgo != nil && kafka.answeredBy != nil)
    #expect(Self.all(text).contains("kafka: reachable, 3 brokers (1 "), "\(Self.all(text))")
    let id = try #require(kafka.clusterId)
    #expect(id.hasPrefix("mockCluster"))
    #expect(Self.all(text).contains("; cluster \(id) (development broker)"), "\(Self.all(text))")

    for id in cluster.brokerIDs { try cluster.setBrokerDown(id) }
    await probe.probe()
    let (downText, down) = try await status(commands)
    #expect(!down.reachable)
    #expect(down.lastError != nil)
    // The last answer stays visible: when the cluster was last seen.
    #expect(down.lastAnswerSecondsAgo != nil && down.brokers.count == 3)
    #expect(Self.all(downText).contains("kafka: UNREACHABLE (last answer"), "\(Self.all(downText))")
    await probe.close()
  }

  @Test("status answers at once while the probe waits on an address nobody listens on")
  func neverBlocks() async throws {
    let directory = try TemporaryDirectory()
    let probe = BrokerProbe(
      bootstrapServers: "127.0.0.1:1",
      admin: try KafkaAdmin(bootstrapServers: "127.0.0.1:1", logger: quietLogger), interval: .seconds(1),
      // Long enough that the probe is surely still waiting when status has answered, even
      // when a loaded machine pauses the test for seconds.
      timeout: .seconds(30))
    let commands = try commands(directory, probe: probe)
    let probing = Task { await probe.probe() }
    try await eventually("the probe is waiting for the cluster") { probe.snapshot.probingSince != nil }
    let (text, kafka) = try await status(commands)
    // Answered while the probe still waits: status reads the last snapshot, never the cluster.
    #expect(probe.snapshot.probingSince != nil)
    #expect(!kafka.reachable && kafka.bootstrapServers == ["127.0.0.1:1"] && kafka.lastCheckSecondsAgo == nil)
    #expect(text.code == .ok && Self.all(text).contains("kafka: UNREACHABLE (not probed yet"))
    await probing.value
    let after = probe.snapshot
    #expect(after.answeredAt == nil && after.lastError != nil && after.checkedAt != nil)
    await probe.close()
  }
}
