import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

/// Issue 7's broker faults, one scenario each: every broker down, bursts of failing
/// requests, partition leaders moving. A real `sagad --config` (both roles) on a
/// 3-broker `sagad dev-broker`, under the payment load of the other scenarios, faults set
/// through the broker's control lines, and the same audit at the end. Each CI test takes
/// about 20 s alone.
@Suite(
  "Reliability: broker faults", .serialized,
  .timeLimit(.minutes(ReliabilityProfile.current.isFull ? 60 : 3)))
struct ReliabilityBrokerFaultTests {
  static let brokerIDs = [1, 2, 3]
  /// Every topic of the dev broker (the catalog's 10) times its 3 partitions.
  static let partitionCount = 30

  static func startRig(_ scenario: ReliabilityScenario) async throws -> ReliabilityRig {
    try await ReliabilityRig.start(scenario, brokerArguments: ["--brokers", "\(brokerIDs.count)"])
  }

  /// After the load: no task may have restarted (each restart leaves the consumer group,
  /// and a few within a minute leave the task failed until an operator steps in), then the
  /// audit and the row.
  static func finish(_ rig: ReliabilityRig, _ payer: ResilientPayer, faults: Int, faultKind: String) async throws {
    let client = try await rig.node.connect()
    let status = try decodeReply(AdminJSON.Status.self, try await client.send("status --json"))
    client.close()
    let restarted = status.tasks.filter { $0.restarts > 0 }.map { "\($0.name) \($0.restarts)x: \($0.lastError ?? "-")" }
    #expect(restarted.isEmpty, "tasks restarted: \(restarted)")
    try await rig.finish(payer, faults: faults, faultKind: faultKind)
  }

  @Test("all brokers down: every broker taken down under load, payments go on, every saga completes once they return")
  func allBrokersDown() async throws {
    let profile = ReliabilityProfile.current
    let outages = profile.pick(ci: 1, full: 2)
    let outage: Duration = profile.pick(ci: .seconds(8), full: .seconds(30))
    let scenario = ReliabilityScenario(
      name: "broker faults: all brokers down", payments: profile.pick(ci: 150, full: 2000), users: 20,
      unenrolledShare: 0.05)
    let rig = try await Self.startRig(scenario)
    defer { rig.cleanUp() }

    // Paced so the load outlasts the outages by a good part: payments are made before,
    // during and after each one.
    let loadSeconds = Double(outage.components.seconds * Int64(outages)) * 1.6
    let payer = ResilientPayer(socket: rig.node.socket, plan: scenario.plan)
    async let load: Void = payer.run(
      concurrency: 4, rate: Double(scenario.plan.count) / loadSeconds,
      timeout: .seconds(profile.pick(ci: 150, full: 3000)))
    var madeWhileDown = 0
    for round in 1...outages {
      // Outages at 1/5 and 3/5 of the plan (1/3 with one outage).
      try await rig.awaitProgress(payer, to: scenario.plan.count * (2 * round - 1) / (2 * outages + 1))
      for id in Self.brokerIDs { try await rig.control("down \(id)") }
      let before = payer.acknowledgedCount
      try await Task.sleep(for: outage)
      madeWhileDown += payer.acknowledgedCount - before
      for id in Self.brokerIDs { try await rig.control("up \(id)") }
    }
    // Payments are local transactions: the outage must not stop them.
    #expect(madeWhileDown > 0, "no payment was made while the brokers were down")
    try await load
    try await Self.finish(
      rig, payer, faults: outages,
      faultKind:
        "all \(Self.brokerIDs.count) brokers down \(outage.components.seconds) s (\(madeWhileDown) payments made while down)"
    )
  }

  @Test("request errors: bursts of failing produce, fetch and offset-commit requests under load")
  func requestErrors() async throws {
    let profile = ReliabilityProfile.current
    let rounds = profile.pick(ci: 4, full: 30)
    let scenario = ReliabilityScenario(
      name: "broker faults: request errors", payments: profile.pick(ci: 150, full: 2000), users: 20,
      unenrolledShare: 0.05)
    let rig = try await Self.startRig(scenario)
    defer { rig.cleanUp() }

    // Per request type: the errors a real cluster answers it with (a moved leader, a
    // timeout, a dropped connection, a coordinator moving), and how many in one burst.
    let bursts: [(api: String, errors: [String], count: ClosedRange<Int>)] = [
      ("produce", ["NOT_LEADER_FOR_PARTITION", "REQUEST_TIMED_OUT", "_TRANSPORT", "NOT_ENOUGH_REPLICAS"], 1...10),
      ("fetch", ["NOT_LEADER_FOR_PARTITION", "REQUEST_TIMED_OUT", "_TRANSPORT"], 1...20),
      ("offset-commit", ["REQUEST_TIMED_OUT", "COORDINATOR_NOT_AVAILABLE", "NOT_COORDINATOR"], 1...3),
    ]
    var random = SeededGenerator(seed: profile.seed &+ 7)
    var injected: [String: Int] = [:]
    let payer = ResilientPayer(socket: rig.node.socket, plan: scenario.plan)
    async let load: Void = payer.run(
      concurrency: 4, rate: 20, timeout: .seconds(profile.pick(ci: 150, full: 3000)))
    for round in 1...rounds {
      try await rig.awaitProgress(payer, to: scenario.plan.count * round / (rounds + 1))
      for burst in bursts {
        let count = Int.random(in: burst.count, using: &random)
        let error = burst.errors.randomElement(using: &random)!
        try await rig.control("errors \(burst.api) \(count) \(error)")
        injected[burst.api, default: 0] += count
      }
    }
    // The last bursts are consumed by the requests of the rest of the load and of the settling.
    let total = injected.values.reduce(0, +)
    let kinds = bursts.map { "\($0.api) \(injected[$0.api] ?? 0)" }.joined(separator: ", ")
    try await load
    try await Self.finish(
      rig, payer, faults: total,
      faultKind: "request errors injected in \(rounds) bursts (\(kinds))")
  }

  @Test("leader moves: the leadership of every partition moves between brokers under load")
  func leaderMoves() async throws {
    let profile = ReliabilityProfile.current
    let rounds = profile.pick(ci: 4, full: 30)
    let scenario = ReliabilityScenario(
      name: "broker faults: leader moves", payments: profile.pick(ci: 150, full: 2000), users: 20,
      unenrolledShare: 0.05)
    let rig = try await Self.startRig(scenario)
    defer { rig.cleanUp() }

    var random = SeededGenerator(seed: profile.seed &+ 8)
    var leader = 0
    var moved = 0
    let payer = ResilientPayer(socket: rig.node.socket, plan: scenario.plan)
    async let load: Void = payer.run(
      concurrency: 4, rate: 20, timeout: .seconds(profile.pick(ci: 150, full: 3000)))
    for round in 1...rounds {
      try await rig.awaitProgress(payer, to: scenario.plan.count * round / (rounds + 1))
      // Every partition to another broker than the last round's.
      leader = Self.brokerIDs.filter { $0 != leader }.randomElement(using: &random)!
      let reply = try await rig.control("leader all all \(leader)")
      #expect(reply == "ok leader \(leader) partitions=\(Self.partitionCount)")
      moved += Self.partitionCount
    }
    try await load
    try await Self.finish(
      rig, payer, faults: rounds,
      faultKind: "leader moves of all \(Self.partitionCount) partitions (\(moved) partition moves)")
  }
}
