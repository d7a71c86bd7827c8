import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

/// What most reliability scenarios start from and end with: a `sagad dev-broker`, one
/// sagad with both roles on it, the scenario's users added and the transient reward
/// failures armed; at the end the audit and the result row.
struct ReliabilityRig {
  let scenario: ReliabilityScenario
  let broker: DevBrokerProcess
  let node: ReliabilityNode

  /// `brokerArguments` go to `sagad dev-broker`; `stateDirectory` as in `ReliabilityNode`.
  static func start(
    _ scenario: ReliabilityScenario, brokerArguments: [String] = [], stateDirectory: String? = nil
  ) async throws -> ReliabilityRig {
    let broker = try await DevBrokerProcess.start(brokerArguments)
    do {
      let node = try ReliabilityNode(name: "sagad", broker: broker.bootstrap, stateDirectory: stateDirectory)
      let rig = ReliabilityRig(scenario: scenario, broker: broker, node: node)
      do {
        try await node.start()
        try await scenario.addUsers(payments: node, points: node)
        try await ReliabilityScenario.armTransientRewardFailures(node)
      } catch {
        rig.cleanUp()
        throw error
      }
      return rig
    } catch {
      broker.cleanUp()
      throw error
    }
  }

  /// A dev-broker control line that must succeed.
  @discardableResult
  func control(_ line: String) async throws -> String {
    let reply = try await broker.control(line)
    guard reply.hasPrefix("ok") else { throw TestFailure("dev-broker: '\(line)' → \(reply)") }
    return reply
  }

  /// Waits until the load has made `target` payments (of the plan).
  func awaitProgress(_ payer: ResilientPayer, to target: Int, timeout: Duration = .seconds(120)) async throws {
    let target = min(target, scenario.plan.count)
    try await eventually("the load to reach \(target) payments", timeout: timeout) {
      payer.acknowledgedCount >= target
    }
  }

  /// After the load: no unexpected refusals, every planned payment acknowledged, then the
  /// audit (`settleAndAudit` stops the node). Returns the violations, refusals included.
  func audit(_ payer: ResilientPayer) async throws -> [String] {
    #expect(payer.refusals.isEmpty, "\(payer.refusals.prefix(5))")
    let violations = try await scenario.settleAndAudit(payments: node, points: node, acknowledged: payer.acknowledged)
    #expect(payer.acknowledgedCount == scenario.plan.count)
    return violations + payer.refusals
  }

  /// `audit`, then the result row; fails the test on any violation.
  func finish(_ payer: ResilientPayer, faults: Int, faultKind: String) async throws {
    let violations = try await audit(payer)
    try scenario.finish(
      payments: payer.acknowledgedCount, faults: faults, faultKind: faultKind, violations: violations)
  }

  /// The safety net for a `defer`.
  func cleanUp() {
    node.killIfRunning()
    broker.cleanUp()
  }
}
