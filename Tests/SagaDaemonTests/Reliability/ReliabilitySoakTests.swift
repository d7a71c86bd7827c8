import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

/// Issue 7's soak: steady load for a long time (10 minutes in the full run) while the
/// process's resident memory, open descriptors and consumer lag are sampled. Leaks show
/// as growth between the first and the last third of the run; a consumer that falls
/// behind shows as lag beyond a few seconds of traffic.
@Suite("Reliability: soak", .serialized, .timeLimit(.minutes(ReliabilityProfile.current.isFull ? 30 : 3)))
struct ReliabilitySoakTests {
  /// What one sample saw.
  struct Sample {
    var residentBytes: Int
    var descriptors: Int
    var lag: Int64
  }

  @Test("steady load: resident memory and open descriptors flat, lag bounded, every saga audited")
  func soak() async throws {
    let profile = ReliabilityProfile.current
    let duration = Duration.seconds(profile.pick(ci: 20, full: 600))
    let rate = profile.pick(ci: 40.0, full: 50.0)
    let payments = Int(rate * Double(duration.components.seconds))
    let scenario = ReliabilityScenario(name: "soak", payments: payments, users: 50, unenrolledShare: 0.05)
    let rig = try await ReliabilityRig.start(scenario)
    defer { rig.cleanUp() }
    let node = rig.node
    let pid = try #require(node.child).pid

    let payer = ResilientPayer(socket: node.socket, plan: scenario.plan)
    let load = Task { try await payer.run(concurrency: 4, rate: rate, timeout: duration * 3) }
    var samples: [Sample] = []
    let client = try await node.connect()
    let deadline = ContinuousClock.now.advanced(by: duration * 3)
    while payer.acknowledgedCount < scenario.plan.count, ContinuousClock.now < deadline {
      try await Task.sleep(for: .seconds(profile.pick(ci: 1, full: 5)))  // the sampling period
      let lag = try decodeReply(AdminJSON.Lag.self, try await client.send("lag --json"))
      samples.append(
        Sample(
          residentBytes: try Self.residentBytes(pid), descriptors: try Self.descriptors(pid),
          lag: lag.partitions.compactMap(\.lag).reduce(0, +)))
    }
    client.close()
    try await load.value
    let violations = try await rig.audit(payer) + Self.judge(samples, rate: rate)
    let first = samples.first
    let last = samples.last
    try scenario.finish(
      payments: payer.acknowledgedCount, faults: 0,
      faultKind:
        "none: \(duration) at \(Int(rate))/s; RSS \(Self.megabytes(first?.residentBytes)) → "
        + "\(Self.megabytes(last?.residentBytes)) MB, fds \(first?.descriptors ?? 0) → \(last?.descriptors ?? 0), "
        + "max lag \(samples.map(\.lag).max() ?? 0) over \(samples.count) samples",
      violations: violations)
  }

  /// Growth from the first third (after the warm-up sample) to the last third of the run,
  /// and lag beyond ten seconds of traffic. Allowances cover allocator and page-cache
  /// noise, not a leak: a leak of 1 KiB per saga grows RSS by 30 MB over the full run.
  static func judge(_ samples: [Sample], rate: Double) -> [String] {
    guard samples.count >= 6 else { return ["only \(samples.count) samples: the soak ended too early to judge"] }
    let steady = Array(samples.dropFirst())
    let third = steady.count / 3
    let early = steady.prefix(third)
    let late = steady.suffix(third)
    var violations: [String] = []
    let earlyRSS = early.map(\.residentBytes).max()!
    let lateRSS = late.map(\.residentBytes).max()!
    if Double(lateRSS) > Double(earlyRSS) * 1.25 + 16 * 1_048_576 {
      violations.append("RSS grew from \(megabytes(earlyRSS)) MB to \(megabytes(lateRSS)) MB")
    }
    let earlyFDs = early.map(\.descriptors).max()!
    let lateFDs = late.map(\.descriptors).max()!
    if lateFDs > earlyFDs + 16 { violations.append("open descriptors grew from \(earlyFDs) to \(lateFDs)") }
    let lagBound = Int64(rate * 10)
    if let worst = samples.map(\.lag).max(), worst > lagBound {
      violations.append("consumer lag reached \(worst) (bound \(lagBound), ten seconds of traffic)")
    }
    return violations
  }

  static func residentBytes(_ pid: Int32) throws -> Int {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
      let kilobytes = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" })[1])
    else { throw TestFailure("no VmRSS in /proc/\(pid)/status") }
    return kilobytes * 1024
  }

  static func descriptors(_ pid: Int32) throws -> Int {
    try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
  }

  static func megabytes(_ bytes: Int?) -> String {
    String(format: "%.1f", Double(bytes ?? 0) / 1_048_576)
  }
}
