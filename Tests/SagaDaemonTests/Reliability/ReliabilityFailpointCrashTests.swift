import AdminProtocol
import Foundation
import SagaCore
import SagaTestSupport
import Testing

/// Issue 7's "crash at every failpoint": under load, each failpoint in turn is armed with
/// `crash`, so sagad aborts exactly there — between a commit and its offset, inside a
/// refund, mid-publish — and is started again on the same state. The audit then finds
/// every saga finished once.
@Suite(
  "Reliability: crash at every failpoint", .serialized,
  .timeLimit(.minutes(ReliabilityProfile.current.isFull ? 30 : 3)))
struct ReliabilityFailpointCrashTests {
  @Test("crash at each of the five failpoints in turn under load; restarted each time; nothing lost or doubled")
  func crashAtEveryFailpoint() async throws {
    let profile = ReliabilityProfile.current
    let rounds = profile.pick(ci: 1, full: 4)
    let scenario = ReliabilityScenario(
      name: "crash at every failpoint", payments: profile.pick(ci: 300, full: 2500), users: 20,
      unenrolledShare: 0.05)
    let rig = try await ReliabilityRig.start(scenario)
    defer { rig.cleanUp() }
    let node = rig.node

    let payer = ResilientPayer(socket: node.socket, plan: scenario.plan)
    async let load: Void = payer.run(concurrency: 4, rate: 15, timeout: .seconds(profile.pick(ci: 150, full: 1800)))
    var random = SeededGenerator(seed: profile.seed &+ 2)
    var crashes: [String: Int] = [:]
    for _ in 0..<rounds {
      for failpoint in FailpointName.known {
        // Armed at a random moment of the load; it fires at the point's next hit.
        let target = payer.acknowledgedCount + Int.random(in: 1...15, using: &random)
        try await eventually("the load to make progress", timeout: .seconds(60)) {
          payer.acknowledgedCount >= min(target, scenario.plan.count)
        }
        let client = try await node.connect()
        let armed = try await client.send("failpoint set \(failpoint.rawValue) crash --count 1")
        client.close()
        #expect(armed.code == .ok, "\(armed.lines.map(\.description))")
        try await eventually("sagad to abort at \(failpoint.rawValue)", timeout: .seconds(90)) { !node.isRunning }
        let child = try #require(node.child)
        try await eventually("sagad's stderr to be drained") { child.stderr.isFinished }
        #expect(
          child.stderr.text.contains("failpoint \(failpoint.rawValue) fired with action crash"),
          "sagad ended otherwise: \(node.stderrTail)")
        #expect(child.termination == .signaled(SIGABRT))
        crashes[failpoint.rawValue, default: 0] += 1
        try await node.start()
        try await ReliabilityScenario.armTransientRewardFailures(node)
      }
    }
    try await load
    try await rig.finish(
      payer, faults: crashes.values.reduce(0, +),
      faultKind:
        "abort at a failpoint (\(crashes.keys.sorted().map { "\($0) \(crashes[$0]!)" }.joined(separator: ", ")))")
  }
}
