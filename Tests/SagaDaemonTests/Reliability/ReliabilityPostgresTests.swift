import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

/// Issue 14's proof: several instances per role on one PostgreSQL, hurt under load. Two
/// Payments and two Points sagads share the database; one of each is killed, then the
/// holder of the payments relay lease (the restarted instance takes one of the survivor's two
/// leases back); PostgreSQL restarts with `-m immediate`, then freezes
/// (SIGSTOP) for a while. Every acknowledged payment ends REWARDED or REFUNDED, nothing is
/// rewarded or refunded twice, and both services' audits (and the cross audit) are clean.
@Suite(
  "Reliability on PostgreSQL: several instances per role, failover, server restart and freeze", .serialized,
  .timeLimit(.minutes(ReliabilityProfile.current.isFull ? 60 : 5)))
struct ReliabilityPostgresTests {
  @Test("two instances per role: kill -9 one of each and the relay lease holder, restart and freeze PostgreSQL")
  func failover() async throws {
    let profile = ReliabilityProfile.current
    let scenario = ReliabilityScenario(
      name: "postgres failover", payments: profile.pick(ci: 240, full: 3000), users: 20, unenrolledShare: 0.05)
    let server = try await PostgresServer.start()
    defer { server.stop() }
    let broker = try await DevBrokerProcess.start()
    defer { broker.cleanUp() }
    let storage = """
      storage:
        engine: postgres
        postgres:
          url: "\(server.url)?sslmode=disable"
      """
    func node(_ name: String, _ role: String) throws -> ReliabilityNode {
      try ReliabilityNode(name: name, broker: broker.bootstrap, roles: [role], extraConfig: storage)
    }
    let payments = [try node("payments-1", "payments"), try node("payments-2", "payments")]
    let points = [try node("points-1", "points"), try node("points-2", "points")]
    let nodes = payments + points
    defer { for node in nodes { node.killIfRunning() } }
    do {
      for node in nodes { try await node.start() }
      try await scenario.addUsers(payments: payments[0], points: points[0])
      for node in points { try await ReliabilityScenario.armTransientRewardFailures(node) }

      // `pay` is accepted by either Payments instance: half the plan through each.
      let half = scenario.plan.count / 2
      let payers = [
        ResilientPayer(socket: payments[0].socket, plan: Array(scenario.plan[..<half])),
        ResilientPayer(socket: payments[1].socket, plan: Array(scenario.plan[half...])),
      ]
      let timeout = Duration.seconds(profile.pick(ci: 240, full: 3000))
      async let first: Void = payers[0].run(concurrency: 2, rate: 10, timeout: timeout)
      async let second: Void = payers[1].run(concurrency: 2, rate: 10, timeout: timeout)
      let progress = { payers.reduce(0) { $0 + $1.acknowledgedCount } }
      func progressed(by count: Int) async throws {
        let target = progress() + count
        try await eventually("the load to make progress", timeout: .seconds(90)) {
          progress() >= min(target, scenario.plan.count)
        }
      }
      var faults: [String] = []

      try await progressed(by: 20)
      for victim in [payments[0], points[0]] {
        try await victim.crash()
        try await victim.start()
        if victim === points[0] { try await ReliabilityScenario.armTransientRewardFailures(victim) }
        faults.append("kill -9 \(victim.name)")
        try await progressed(by: 10)
      }

      // The relay lease holder dies; another instance takes the lease over within seconds.
      let holder = try await Self.leaseHolder("relay payments", among: payments)
      let killedAt = ContinuousClock.now
      try await holder.crash()
      let survivor = payments.first { $0 !== holder }!
      try await eventually("the payments relay lease to move to \(survivor.name)", timeout: .seconds(15)) {
        try await Self.holdsLease("relay payments", survivor)
      }
      faults.append("kill -9 the relay lease holder \(holder.name) (taken over in \(ContinuousClock.now - killedAt))")
      // Its relay says so in `status`: it publishes, and hears the standby's commits once it is back.
      try await eventually("\(survivor.name)'s payments relay to publish", timeout: .seconds(15)) {
        try await Self.relayLease("payments", survivor)?.held == true
      }
      try await holder.start()
      try await progressed(by: 10)
      // Back, it takes one of the survivor's two leases (the relay or the sweeper): they share them again.
      try await eventually("the two Payments instances to hold one lease each", timeout: .seconds(15)) {
        let (first, second) = (try await Self.leasesHeld(payments[0]), try await Self.leasesHeld(payments[1]))
        return first.count == 1 && second.count == 1
      }
      let publisher = try await Self.leaseHolder("relay payments", among: payments)
      try await eventually("\(publisher.name) to hear the standby's commits", timeout: .seconds(15)) {
        let lease = try await Self.relayLease("payments", publisher)
        return lease?.listening == true && (lease?.announcementsHeard ?? 0) > 0
      }

      try await server.restartImmediately()
      faults.append("PostgreSQL restart -m immediate")
      try await progressed(by: 10)

      let freeze = Duration.seconds(profile.pick(ci: 10, full: 20))
      let frozen = server.pause()
      try await Task.sleep(for: freeze)  // the fault is the wait: nothing to await but time
      server.resume(frozen)
      faults.append("PostgreSQL frozen (SIGSTOP) for \(freeze)")

      try await first
      try await second
      let acknowledged = payers.reduce(into: [PlannedPayment: Int64]()) { $0.merge($1.acknowledged) { a, _ in a } }
      #expect(payers.allSatisfy { $0.refusals.isEmpty }, "\(payers.flatMap(\.refusals).prefix(5))")
      let violations = try await Self.audit(
        server, acknowledged: acknowledged, payments: payments, points: points)
      try scenario.finish(
        payments: acknowledged.count, faults: faults.count, faultKind: faults.joined(separator: "; "),
        violations: violations + payers.flatMap(\.refusals))
    } catch {
      for node in nodes { Issue.record("\(node.name) stderr:\n\(node.stderrTail)") }
      Issue.record("PostgreSQL log:\n\(server.logText.suffix(3000))")
      throw error
    }
  }

  /// The instance (of `nodes`) whose `status` says it holds `lease`.
  static func leaseHolder(_ lease: String, among nodes: [ReliabilityNode]) async throws -> ReliabilityNode {
    var found: ReliabilityNode?
    try await eventually("one instance to hold \(lease)", timeout: .seconds(15)) {
      for node in nodes where try await holdsLease(lease, node) {
        found = node
        return true
      }
      return false
    }
    return found!
  }

  static func holdsLease(_ lease: String, _ node: ReliabilityNode) async throws -> Bool {
    try await leasesHeld(node).contains(lease)
  }

  /// The leases `node`'s `status` says it holds (none when it does not answer).
  static func leasesHeld(_ node: ReliabilityNode) async throws -> [String] {
    guard node.isRunning, let client = try? await node.connect() else { return [] }
    defer { client.close() }
    let status = try decodeReply(AdminJSON.Status.self, try await client.send("status --json"))
    return status.storage?.leases.filter(\.heldHere).map(\.name) ?? []
  }

  /// The lease of `node`'s relay of `service` as its `status` shows it (nil: no lease, or no answer).
  static func relayLease(_ service: String, _ node: ReliabilityNode) async throws -> AdminJSON.Relay.Lease? {
    guard node.isRunning, let client = try? await node.connect() else { return nil }
    defer { client.close() }
    let status = try decodeReply(AdminJSON.Status.self, try await client.send("status --json"))
    return status.relays.first { $0.name == service }?.lease
  }

  /// Waits for every acknowledged payment to end, then checks the shared database: each one
  /// once, terminal, rewarded once or refunded once, and no payment nobody acknowledged;
  /// then both services' `verify` and the cross audit, live.
  static func audit(
    _ server: PostgresServer, acknowledged: [PlannedPayment: Int64], payments: [ReliabilityNode],
    points: [ReliabilityNode]
  ) async throws -> [String] {
    let ids = Set(acknowledged.values)
    try await eventually("every acknowledged payment to end", timeout: .seconds(120)) {
      let open = try await server.psql(
        "SELECT count(*) FROM payments.payments WHERE status NOT IN ('REWARDED', 'REFUNDED')")
      return open == "0"
    }
    var violations: [String] = []
    let all = try await server.psql("SELECT id FROM payments.payments ORDER BY id")
    let stored = Set(all.split(separator: "\n").compactMap { Int64($0) })
    if stored != ids {
      violations.append(
        "payments stored \(stored.count), acknowledged \(ids.count): unacknowledged "
          + "\(stored.subtracting(ids).sorted().prefix(5)), missing \(ids.subtracting(stored).sorted().prefix(5))")
    }
    let checks = [
      "rewarded twice":
        "SELECT payment_id FROM points.point_ledger GROUP BY payment_id HAVING count(*) > 1",
      "refunded twice":
        "SELECT payment_id FROM payments.wallet_ledger WHERE kind = 'refund' GROUP BY payment_id HAVING count(*) > 1",
      "REWARDED without exactly one reward of its amount": """
      SELECT p.id FROM payments.payments p LEFT JOIN points.point_ledger l ON l.payment_id = p.id
      WHERE p.status = 'REWARDED' GROUP BY p.id, p.reward_amount
      HAVING count(l.id) <> 1 OR max(l.amount) <> p.reward_amount
      """,
      "REFUNDED with a reward or without its refund": """
      SELECT p.id FROM payments.payments p
      WHERE p.status = 'REFUNDED' AND (EXISTS (SELECT 1 FROM points.point_ledger l WHERE l.payment_id = p.id)
        OR NOT EXISTS (SELECT 1 FROM payments.refunds r WHERE r.payment_id = p.id))
      """,
    ]
    for (what, sql) in checks.sorted(by: { $0.key < $1.key }) {
      let rows = try await server.psql(sql)
      if !rows.isEmpty { violations.append("\(what): payments \(rows.split(separator: "\n").prefix(5))") }
    }
    let live = try await liveAudit(payments + points)
    violations += live.violations
    let client = try await payments[0].connect()
    defer { client.close() }
    let cross = try await client.send("verify --peer '\(points[0].socket)'")
    if cross.code != .ok { violations.append("verify --peer: \(cross.lines.map(\.description).prefix(5))") }
    return violations
  }
}
