import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

/// The newcomer's path through README.md: `make run` (= `sagad --dev --demo`) in one
/// terminal, the README's own `sagactl` lines in another. The lines are read from the
/// README itself, so a README that drifts from what sagactl does fails here.
@Suite("README quick start", .timeLimit(.minutes(2)))
struct ReadmePathTests {
  /// The `$C …` lines of the README's "Talk to it with sagactl" block, without comments.
  static func readmeLines() throws -> [[String]] {
    let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("README.md")
    let text = try String(contentsOf: readme, encoding: .utf8)
    guard let section = text.range(of: "### Talk to it with `sagactl`") else {
      throw TestFailure("README.md has no 'Talk to it with `sagactl`' section")
    }
    return text[section.upperBound...].split(separator: "\n").prefix { !$0.hasPrefix("## ") }
      .filter { $0.hasPrefix("$C ") }
      .map { line in
        let command = line.dropFirst(3).split(separator: "#", maxSplits: 1).first ?? ""
        return command.split(separator: " ").map(String.init)
      }
  }

  @Test("every sagactl line of the README succeeds against make run's sagad; reward and compensation sagas show")
  func quickStart() async throws {
    let lines = try Self.readmeLines()
    #expect(lines.count >= 6)
    let dev = try DevDaemon(["--demo"])
    let (daemon, socket) = (dev.process, dev.socket)
    defer { daemon.killIfRunning() }
    let sagactl = try sagactlBinary()
    func ctl(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
      try await run(sagactl, ["--socket", socket] + arguments)
    }
    // The demo's two sagas end before the README's lines about them are run.
    try await eventually("the demo's payments 1 and 2 to finish", timeout: .seconds(60)) {
      guard daemon.isRunning else { throw TestFailure("sagad exited:\n\(daemon.stderr.text.suffix(3000))") }
      let first = try await ctl(["payment", "1", "--json"])
      let second = try await ctl(["payment", "2", "--json"])
      return first.stdout.contains("\"REWARDED\"") && second.stdout.contains("\"REFUNDED\"")
    }
    for line in lines {
      // `payment N` right after `pay` may still say PAID: the README says "as soon as Points has answered".
      if line.first == "payment" {
        try await eventually("\(line.joined(separator: " ")) to show REWARDED") {
          try await ctl(line).stdout.contains("REWARDED")
        }
      }
      let result = try await ctl(line)
      #expect(result.status == 0, "sagactl \(line.joined(separator: " ")): \(result.stderr)")
      switch line.first {
      case "saga" where line.last == "1":
        // Both services' sides: Points' decision on the ReservationCompleted it read, then Payments'.
        for step in ["reward-recorded", "PointRewardCompleted sent", "reward-completed"] {
          #expect(result.stdout.contains(step), "\(result.stdout)")
        }
      case "saga" where line.last == "2":
        for step in ["reward-failure-recorded", "CompensatePayment sent", "reward-failed", "compensation-refunded"] {
          #expect(result.stdout.contains(step), "\(result.stdout)")
        }
      case "balance":
        let balance = try JSONDecoder().decode(AdminJSON.Balance.self, from: Data(result.stdout.utf8))
        #expect(balance == AdminJSON.Balance(userId: 10, wallet: 50_000, points: 5_000))
      default: break
      }
    }
    daemon.signal(SIGTERM)
    #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 0)
  }
}
