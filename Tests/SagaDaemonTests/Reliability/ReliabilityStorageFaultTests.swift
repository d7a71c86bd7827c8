import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

/// Issue 7's storage faults: sagad's state directory on a small tmpfs of its own, which
/// fills up to the last byte under load, or comes back read-only after a crash. Either
/// way: a clear error, nothing corrupt, and recovery once the disk is healthy again.
@Suite(
  "Reliability: storage faults", .serialized,
  .enabled(if: TmpfsMount.isAvailable, "needs to mount a tmpfs (root or CAP_SYS_ADMIN)"),
  .timeLimit(.minutes(ReliabilityProfile.current.isFull ? 30 : 3)))
struct ReliabilityStorageFaultTests {
  @Test("disk full under load: pay refused with a storage error, workers back off, all completes once space returns")
  func diskFull() async throws {
    let profile = ReliabilityProfile.current
    let rounds = profile.pick(ci: 1, full: 3)
    let fullFor = Duration.seconds(profile.pick(ci: 4, full: 30))
    let scenario = ReliabilityScenario(
      name: "storage full", payments: profile.pick(ci: 200, full: 2000), users: 20, unenrolledShare: 0.05)
    let state = try TemporaryDirectory()
    let disk = try TmpfsMount(at: state.path + "/state", megabytes: 48)
    defer { disk.unmount() }
    let rig = try await ReliabilityRig.start(scenario, stateDirectory: disk.path)
    defer { rig.cleanUp() }
    let node = rig.node

    // A pay refused for a full disk committed nothing: the client may send it again.
    let payer = ResilientPayer(socket: node.socket, plan: scenario.plan) { reply in
      reply.lines.contains { $0.description.contains("full") }
    }
    async let load: Void = payer.run(concurrency: 4, rate: 20, timeout: .seconds(profile.pick(ci: 150, full: 1200)))
    var operatorRestarts: [String] = []
    for round in 1...rounds {
      let target = scenario.plan.count * round / (rounds + 1)
      try await eventually("the load to reach \(target) payments", timeout: .seconds(120)) {
        payer.acknowledgedCount >= target
      }
      let deferredBefore = payer.deferrals.count
      try disk.fill()
      // The client is told why, in words an operator acts on. (`status` shows it only for
      // tasks that wrote meanwhile: with every pay refused there may be nothing to consume.)
      try await eventually("a pay to be refused for the full disk", timeout: .seconds(30)) {
        payer.deferrals.count > deferredBefore
      }
      #expect(payer.deferrals.last?.contains("database or disk is full") == true, "\(payer.deferrals.last ?? "")")
      try await Task.sleep(for: fullFor)  // the fault's duration, on purpose
      #expect(node.isRunning, "sagad died on a full disk: \(node.stderrTail)")
      let client = try await node.connect()
      let status = try await client.send("status")
      client.close()
      #expect(status.code == .ok, "status on a full disk: \(status.lines.map(\.description))")
      try disk.drain()
      operatorRestarts += try await Self.restartFailedTasks(node)
    }
    try await load
    try await rig.finish(
      payer, faults: rounds,
      faultKind:
        "disk full for \(fullFor) (\(payer.deferrals.count) pay requests refused and sent again; "
        + "failed tasks restarted as the playbook says: \(operatorRestarts.isEmpty ? "none" : operatorRestarts.joined(separator: ", ")))"
    )
  }

  /// The playbook's step once space is back (Docs/operations.md): a task that went past
  /// `supervisor.max_restarts` while the disk was full is `failed` and waits for an operator.
  /// Waits until no task is in back-off any more, restarting the failed ones; returns them.
  static func restartFailedTasks(_ node: ReliabilityNode) async throws -> [String] {
    let client = try await node.connect()
    defer { client.close() }
    var restarted: [String] = []
    try await eventually("every task to run again", timeout: .seconds(90)) {
      let status = try decodeReply(AdminJSON.Status.self, try await client.send("status --json"))
      for task in status.tasks where task.state == "failed" {
        let reply = try await client.send("restart \(task.name)")
        #expect(reply.code == .ok, "restart \(task.name): \(reply.lines.map(\.description))")
        restarted.append(task.name)
      }
      return status.tasks.allSatisfy { ["running", "paused"].contains($0.state) }
    }
    return restarted
  }

  @Test("read-only after a crash: sagad refuses to start naming the database, starts once writable, nothing lost")
  func readOnlyAfterCrash() async throws {
    let profile = ReliabilityProfile.current
    let rounds = profile.pick(ci: 1, full: 3)
    let scenario = ReliabilityScenario(
      name: "storage read-only", payments: profile.pick(ci: 150, full: 1500), users: 20, unenrolledShare: 0.05)
    let state = try TemporaryDirectory()
    let disk = try TmpfsMount(at: state.path + "/state", megabytes: 64)
    defer { disk.unmount() }
    let rig = try await ReliabilityRig.start(scenario, stateDirectory: disk.path)
    defer { rig.cleanUp() }
    let node = rig.node

    let payer = ResilientPayer(socket: node.socket, plan: scenario.plan)
    async let load: Void = payer.run(concurrency: 4, rate: 20, timeout: .seconds(profile.pick(ci: 150, full: 1200)))
    for round in 1...rounds {
      let target = scenario.plan.count * round / (rounds + 1)
      try await eventually("the load to reach \(target) payments", timeout: .seconds(120)) {
        payer.acknowledgedCount >= target
      }
      // A crash, then the filesystem comes back read-only (as ext4 does after errors):
      // the databases are there, with -wal and -shm, and SQLite could open them read-only.
      try await node.crash()
      try disk.remount(readOnly: true)
      let refused = try ChildProcess(try sagadBinary(), ["--config", node.configPath], pipeStdin: false)
      defer { refused.killIfRunning() }
      let status = try await refused.waitForExit(timeout: .seconds(60))
      #expect(status != 0)
      #expect(
        refused.stderr.text.contains(disk.path + "/"),
        "the refusal does not name the database: \(refused.stderr.text.suffix(2000))")
      try disk.remount(readOnly: false)
      try await node.start()
      try await ReliabilityScenario.armTransientRewardFailures(node)
    }
    try await load
    try await rig.finish(
      payer, faults: rounds,
      faultKind: "kill -9, state remounted read-only: start refused, then writable again")
  }
}
