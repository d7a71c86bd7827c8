import Foundation
import Testing

@testable import SagaDaemon

@Suite("outbox.wake_on_commit, payments.group_commit and its window", .timeLimit(.minutes(1)))
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

  @Test("payments.group_commit_window: the engine's default until set; 0 turns it off; out of range refuses the start")
  func groupCommitWindow() async throws {
    let sqlite = try await DaemonConfiguration.load(file: nil, dev: true, environment: [:])
    #expect(sqlite.node.payGroupCommitWindow == nil && sqlite.node.payments.groupCommitWindow == nil)
    #expect(sqlite.value(of: "payments.group_commit_window") == "3ms")
    let postgres = try await DaemonConfiguration.load(
      file: nil, dev: true,
      environment: [
        "SAGAD_STORAGE_ENGINE": "postgres", "SAGAD_STORAGE_POSTGRES_URL": "postgres://app@db.example/sagas",
      ])
    #expect(postgres.value(of: "payments.group_commit_window") == "8ms")

    let set = try await DaemonConfiguration.load(
      file: nil, dev: true, environment: ["SAGAD_PAYMENTS_GROUP_COMMIT_WINDOW": "20ms"])
    #expect(set.node.payments.groupCommitWindow == .milliseconds(20))
    #expect(set.value(of: "payments.group_commit_window") == "20ms")
    let off = try await DaemonConfiguration.load(
      file: nil, dev: true, environment: ["SAGAD_PAYMENTS_GROUP_COMMIT_WINDOW": "0"])
    #expect(off.node.payments.groupCommitWindow == .zero)

    do {
      _ = try await DaemonConfiguration.load(
        file: nil, dev: true, environment: ["SAGAD_PAYMENTS_GROUP_COMMIT_WINDOW": "2s"])
      Issue.record("a window of 2s was accepted")
    } catch {
      #expect(error.key == "payments.group_commit_window")
    }
  }
}
