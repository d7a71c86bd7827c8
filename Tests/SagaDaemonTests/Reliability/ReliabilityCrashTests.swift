import AdminProtocol
import Foundation
import SagaCore
import SagaTestSupport
import Testing

/// Issue 7's process-level scenarios: a real `sagad --config` on a `sagad dev-broker`,
/// driven through its admin socket, hurt, and audited (ReliabilityAudit). Sizes follow
/// `RELIABILITY` (ReliabilityProfile): the CI subset by default, `full` for
/// `make reliability`. Each CI test takes about 25 s alone; 3 minutes leaves room for the
/// rest of `make test` running beside it.
@Suite(
  "Reliability: crash loop, split roles, duplicates", .serialized,
  .timeLimit(.minutes(ReliabilityProfile.current.isFull ? 60 : 3)))
struct ReliabilityCrashTests {
  @Test("crash loop: kill -9 at random moments under load with 5 % unenrolled users and 2 % transient reward failures")
  func crashLoop() async throws {
    let profile = ReliabilityProfile.current
    let kills = profile.pick(ci: 5, full: 50)
    let scenario = ReliabilityScenario(
      name: "crash loop", payments: profile.pick(ci: 300, full: 4000), users: 20, unenrolledShare: 0.05)
    let rig = try await ReliabilityRig.start(scenario)
    defer { rig.cleanUp() }
    let node = rig.node

    let payer = ResilientPayer(socket: node.socket, plan: scenario.plan)
    async let load: Void = payer.run(concurrency: 4, rate: 20, timeout: .seconds(profile.pick(ci: 150, full: 3000)))
    var random = SeededGenerator(seed: profile.seed)
    for _ in 0..<kills {
      // A random moment: after some progress, then anywhere in the next few seconds —
      // mid-pay, mid-rebalance, mid-consume or mid-publish.
      let target = payer.acknowledgedCount + Int.random(in: 1...20, using: &random)
      try await eventually("the load to make progress", timeout: .seconds(60)) {
        payer.acknowledgedCount >= min(target, scenario.plan.count)
      }
      try await Task.sleep(for: .milliseconds(Int.random(in: 0...6000, using: &random)))
      try await node.crash()
      try await node.start()
      try await ReliabilityScenario.armTransientRewardFailures(node)
    }
    try await load
    let violations = try await rig.audit(payer)
    // The run was clean; its databases, damaged on purpose, must not be.
    try ReliabilityAuditSelfCheck.run(stateDirectory: node.stateDirectory, acknowledged: payer.acknowledged)
    try scenario.finish(
      payments: payer.acknowledgedCount, faults: kills,
      faultKind: "kill -9 (\(payer.resends) pay resends, \(payer.duplicates) answered as duplicates)",
      violations: violations)
  }

  @Test("split roles: a payments sagad and a points sagad on one broker, each killed and restarted during load")
  func splitRoles() async throws {
    let profile = ReliabilityProfile.current
    let kills = profile.pick(ci: 4, full: 30)
    let scenario = ReliabilityScenario(
      name: "split roles", payments: profile.pick(ci: 200, full: 3000), users: 20, unenrolledShare: 0.05)
    let broker = try await DevBrokerProcess.start()
    defer { broker.cleanUp() }
    let payments = try ReliabilityNode(name: "payments", broker: broker.bootstrap, roles: ["payments"])
    defer { payments.killIfRunning() }
    let points = try ReliabilityNode(name: "points", broker: broker.bootstrap, roles: ["points"])
    defer { points.killIfRunning() }
    try await payments.start()
    try await points.start()
    try await scenario.addUsers(payments: payments, points: points)
    try await ReliabilityScenario.armTransientRewardFailures(points)

    let payer = ResilientPayer(socket: payments.socket, plan: scenario.plan)
    async let load: Void = payer.run(concurrency: 4, rate: 20, timeout: .seconds(profile.pick(ci: 150, full: 3000)))
    var random = SeededGenerator(seed: profile.seed &+ 1)
    var killed = ["payments": 0, "points": 0]
    for index in 0..<kills {
      let target = payer.acknowledgedCount + Int.random(in: 1...20, using: &random)
      try await eventually("the load to make progress", timeout: .seconds(60)) {
        payer.acknowledgedCount >= min(target, scenario.plan.count)
      }
      try await Task.sleep(for: .milliseconds(Int.random(in: 0...5000, using: &random)))
      // Each at least once, then at random.
      let victim = index < 2 ? [payments, points][index] : [payments, points].randomElement(using: &random)!
      try await victim.crash()
      try await victim.start()
      if victim === points { try await ReliabilityScenario.armTransientRewardFailures(points) }
      killed[victim.name, default: 0] += 1
    }
    try await load
    #expect(payer.refusals.isEmpty, "\(payer.refusals.prefix(5))")

    let violations = try await scenario.settleAndAudit(
      payments: payments, points: points, acknowledged: payer.acknowledged)
    try scenario.finish(
      payments: payer.acknowledgedCount, faults: kills,
      faultKind:
        "kill -9 (payments \(killed["payments"]!), points \(killed["points"]!); \(payer.resends) pay resends)",
      violations: violations + payer.refusals)
  }

  @Test("duplicates: every consumer group reset to the earliest offset mid-run; the inbox makes it a no-op")
  func consumerGroupsRewound() async throws {
    let profile = ReliabilityProfile.current
    let resets = profile.pick(ci: 1, full: 3)
    let scenario = ReliabilityScenario(
      name: "duplicates", payments: profile.pick(ci: 200, full: 3000), users: 20, unenrolledShare: 0.05)
    let rig = try await ReliabilityRig.start(scenario)
    defer { rig.cleanUp() }
    let node = rig.node

    let payer = ResilientPayer(socket: node.socket, plan: scenario.plan)
    async let load: Void = payer.run(concurrency: 4, rate: 40, timeout: .seconds(profile.pick(ci: 150, full: 3000)))
    var rewound = 0
    for round in 1...resets {
      let target = scenario.plan.count * round / (resets + 1)
      try await eventually("the load to reach \(target) payments", timeout: .seconds(120)) {
        payer.acknowledgedCount >= target
      }
      // Consumed before the reset, so there is something to consume twice.
      let client = try await node.connect()
      let made = payer.acknowledged.values
      try await eventually("the sagas of the first \(made.count) payments to end", timeout: .seconds(60)) {
        for id in made {
          let payment = try decodeReply(AdminJSON.Payment.self, try await client.send("payment \(id) --json"))
          guard ["REWARDED", "REFUNDED"].contains(payment.status) else { return false }
        }
        return true
      }
      client.close()
      // Stopped cleanly, so every group is empty and takes the reset at once.
      try await node.stop()
      rewound += try await ConsumerGroupReset.allToEarliest(bootstrap: rig.broker.bootstrap)
      // Finding (open): a sagad started right after the reset consumers left its groups
      // stays at 0 assigned partitions in every worker (90 s and more, `status` shows
      // PARTITIONS 0) on the dev broker. Started once their sessions have surely expired,
      // it consumes normally. Until that is understood, wait out the reset sessions.
      try await Task.sleep(for: ConsumerGroupReset.sessionTimeout + .seconds(2))
      try await node.start()
      try await ReliabilityScenario.armTransientRewardFailures(node)
    }
    // The reset is real: partitions that had been consumed were rewound.
    #expect(rewound > 0)
    try await load
    try await rig.finish(
      payer, faults: resets * SagaConsumerGroup.allCases.count,
      faultKind: "group offsets reset to earliest (\(rewound) partitions rewound)")
  }
}
