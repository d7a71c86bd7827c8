import Foundation
import Testing

@testable import SagaDaemon

@Suite("outbox.wake_on_commit and payments.group_commit", .timeLimit(.minutes(1)))
struct BaselineConfigKeysTests {
  @Test("both default to true and can be turned off, as make bench's baseline does")
  func defaultsAndOverrides() async throws {
    let defaults = try await DaemonConfiguration.load(file: nil, dev: true, environment: [:])
    #expect(defaults.node.relay.wakeOnCommit)
    #expect(defaults.node.payGroupCommit)
    #expect(defaults.value(of: "outbox.wake_on_commit") == "true")
    #expect(defaults.value(of: "payments.group_commit") == "true")

    let baseline = try await DaemonConfiguration.load(
      file: nil, dev: true,
      environment: ["SAGAD_OUTBOX_WAKE_ON_COMMIT": "false", "SAGAD_PAYMENTS_GROUP_COMMIT": "false"])
    #expect(!baseline.node.relay.wakeOnCommit)
    #expect(!baseline.node.payGroupCommit)
  }

  @Test("outbox.handoff defaults to true and can be turned off")
  func handoff() async throws {
    let defaults = try await DaemonConfiguration.load(file: nil, dev: true, environment: [:])
    #expect(defaults.node.relay.handoff && defaults.value(of: "outbox.handoff") == "true")
    let off = try await DaemonConfiguration.load(file: nil, dev: true, environment: ["SAGAD_OUTBOX_HANDOFF": "false"])
    #expect(!off.node.relay.handoff)
  }
}
