import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

/// What a reliability scenario shares: the users and payments it plans, their setup over
/// the admin sockets, the transient failpoint, and the end — wait for a quiet state,
/// stop every process, audit, record the result.
struct ReliabilityScenario {
  static let amount: Int64 = 10_000

  let name: String
  let profile = ReliabilityProfile.current
  let started = ContinuousClock.now
  /// The payments, round-robin over the users, one schedule each.
  let plan: [PlannedPayment]
  let enrolled: [Int64]
  let unenrolled: [Int64]

  /// `users` users from `firstUser`, every `1 / unenrolledShare`-th without a point account
  /// (so 0.05 gives 5 %), each with money for all its payments.
  init(name: String, payments: Int, users: Int, unenrolledShare: Double, firstUser: Int64 = 1) {
    self.name = name
    let ids = (0..<Int64(users)).map { firstUser + $0 }
    let stride = unenrolledShare > 0 ? max(1, Int((1 / unenrolledShare).rounded())) : Int.max
    let unenrolled = ids.enumerated().filter { $0.offset % stride == stride - 1 }.map(\.element)
    self.unenrolled = unenrolled
    enrolled = ids.filter { !unenrolled.contains($0) }
    plan = (0..<payments).map { index in
      PlannedPayment(userId: ids[index % users], scheduleId: Int64(index + 1), amount: Self.amount)
    }
  }

  /// Creates the users: wallets where Payments runs, point accounts where Points runs.
  func addUsers(payments: ReliabilityNode, points: ReliabilityNode) async throws {
    let paymentsPerUser = Int64(
      (plan.count + enrolled.count + unenrolled.count - 1) / (enrolled.count + unenrolled.count))
    let balance = paymentsPerUser * Self.amount
    let client = try await payments.connect()
    defer { client.close() }
    let shared = payments === points
    for user in enrolled + unenrolled {
      let enroll = shared && enrolled.contains(user)
      let reply = try await client.send("user add \(user) --balance \(balance)\(enroll ? "" : " --no-points")")
      #expect(reply.code == .ok, "user add \(user): \(reply.lines.map(\.description))")
    }
    guard !shared else { return }
    let pointsClient = try await points.connect()
    defer { pointsClient.close() }
    for user in enrolled {
      let reply = try await pointsClient.send("user add \(user)")
      #expect(reply.code == .ok, "enrol \(user): \(reply.lines.map(\.description))")
    }
  }

  /// Arms `points.reward` with transient errors at 2 % (failpoints live in memory: again
  /// after every restart). Only on a node running Points.
  static func armTransientRewardFailures(_ node: ReliabilityNode) async throws {
    let client = try await node.connect()
    defer { client.close() }
    let reply = try await client.send("failpoint set points.reward error(transient) --probability 0.02")
    #expect(reply.code == .ok, "\(reply.lines.map(\.description))")
  }

  /// Waits (up to `timeout`) until the audit finds nothing, live; stops every node; audits
  /// the stopped databases. Returns the final violations.
  func settleAndAudit(
    payments: ReliabilityNode, points: ReliabilityNode, acknowledged: [PlannedPayment: Int64],
    timeout: Duration = .seconds(90)
  ) async throws -> [String] {
    let nodes = payments === points ? [payments] : [payments, points]
    var audit = ReliabilityAudit(
      paymentsDatabase: payments.stateDirectory + "/payments.sqlite",
      pointsDatabase: points.stateDirectory + "/points.sqlite",
      deadLetterDatabases: nodes.map { $0.stateDirectory + "/dlt.sqlite" }, acknowledged: acknowledged)
    let deadline = ContinuousClock.now.advanced(by: timeout)
    var violations: [String] = []
    while true {
      let live = try await liveAudit(nodes)
      audit.listedParked = live.parked
      violations = live.violations + (try audit.run())
      if violations.isEmpty || ContinuousClock.now >= deadline { break }
      // Polling a whole audit: twice a second is plenty and leaves the CPUs to sagad.
      try await Task.sleep(for: .milliseconds(500))
    }
    if !violations.isEmpty {
      // What the processes say about themselves, for whoever reads the failure.
      for node in nodes {
        let client = try await node.connect()
        let status = try await client.send("status")
        let lag = try await client.send("lag")
        client.close()
        print(
          "\(name): \(node.name) after the deadline:\n\(status.lines.map(\.description).joined(separator: "\n"))\n"
            + "\(lag.lines.map(\.description).joined(separator: "\n"))\nstderr:\n\(node.stderrTail)")
      }
    }
    for node in nodes { try await node.stop() }
    // The stopped databases, as a restart would find them; parked ones as last listed.
    return violations.isEmpty ? try audit.run() : violations
  }

  /// Records the result row and fails the test on any violation.
  func finish(runs: Int = 1, payments: Int, faults: Int, faultKind: String, violations: [String]) throws {
    let seconds = Double((ContinuousClock.now - started).components.seconds)
    try ReliabilityResult(
      scenario: name, profile: profile.name, seed: profile.seed, runs: runs, payments: payments, faults: faults,
      faultKind: faultKind, violations: violations.count, seconds: seconds, details: Array(violations.prefix(20))
    ).record()
    #expect(violations.isEmpty, "\(violations.count) violations:\n\(violations.prefix(30).joined(separator: "\n"))")
  }
}
