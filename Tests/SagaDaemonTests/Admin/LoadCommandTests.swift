import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

/// `sagactl load` as an operator runs it: real payments through the admin socket of a
/// sagad process, every saga waited for, then `verify`.
@Suite("sagactl load", .timeLimit(.minutes(3)))
struct LoadCommandTests {
  /// The `--json` document of `sagactl load` (the contract scripts rely on).
  private struct Report: Decodable {
    var payments: Int
    var seconds: Double
    var sagasPerSecond: Double
    var p50Ms: Double
    var p99Ms: Double
    var maxMs: Double
    var outcomes: [String: Int]
    var verifyOk: Bool
  }

  @Test("60 payments, half the users without points: 30 rewarded, 30 refunded, verify ok, exit 0")
  func rewardsAndRefunds() async throws {
    let dev = try DevDaemon()
    let (daemon, socket) = (dev.process, dev.socket)
    defer { daemon.killIfRunning() }
    try await waitForAdminSocket(socket, of: daemon)

    let result = try await run(
      try sagactlBinary(),
      [
        "load", "--socket", socket, "--payments", "60", "--users", "6", "--unenrolled", "0.5", "--concurrency",
        "4", "--first-user", "1000", "--json",
      ], timeout: .seconds(120))
    #expect(result.status == 0, "\(result.stderr)")
    let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
    #expect(report.payments == 60)
    #expect(report.outcomes == ["REWARDED": 30, "REFUNDED": 30])
    #expect(report.verifyOk)
    #expect(report.seconds > 0 && report.sagasPerSecond > 0)
    #expect(0 < report.p50Ms && report.p50Ms <= report.p99Ms && report.p99Ms <= report.maxMs)

    // The users it made pay: a rewarded user holds points, an unenrolled one has its money back.
    let client = try await AdminTestClient.connect(socket)
    let enrolled = try await client.send("balance 1005 --json")
    let balance = try JSONDecoder().decode(AdminJSON.Balance.self, from: Data((enrolled.json ?? "").utf8))
    #expect(balance == AdminJSON.Balance(userId: 1005, wallet: 0, points: 10 * 1_000))
    let unenrolled = try await client.send("balance 1000 --json")
    let refunded = try JSONDecoder().decode(AdminJSON.Balance.self, from: Data((unenrolled.json ?? "").utf8))
    #expect(refunded.wallet == Int64(10 * 10_000))
  }

  @Test("two loads at once: each reports its own payments, not the other's in between (its polls read id ranges)")
  func concurrentLoads() async throws {
    let dev = try DevDaemon()
    let (daemon, socket) = (dev.process, dev.socket)
    defer { daemon.killIfRunning() }
    try await waitForAdminSocket(socket, of: daemon)
    let binary = try sagactlBinary()
    async let first = run(
      binary,
      [
        "load", "--socket", socket, "--payments", "40", "--users", "4", "--concurrency", "4", "--first-user", "2000",
        "--json",
      ], timeout: .seconds(120))
    async let second = run(
      binary,
      [
        "load", "--socket", socket, "--payments", "40", "--users", "4", "--concurrency", "4", "--first-user", "3000",
        "--json",
      ], timeout: .seconds(120))
    for result in try await [first, second] {
      #expect(result.status == 0, "\(result.stderr)")
      let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
      #expect(report.payments == 40)
      #expect(report.outcomes == ["REWARDED": 40])
    }
  }

  @Test("--also-socket: the connections go round robin over both sockets, and every saga is waited for")
  func alsoSocket() async throws {
    let dev = try DevDaemon()
    let (daemon, socket) = (dev.process, dev.socket)
    defer { daemon.killIfRunning() }
    try await waitForAdminSocket(socket, of: daemon)
    // A second path to the same sagad through socat, which logs every connection it takes:
    // what a second instance would see, minus the second database.
    let proxy = dev.directory.path + "/proxy.sock"
    let socat = try ChildProcess(
      try requiredTool("socat"), ["-d", "-d", "UNIX-LISTEN:\(proxy),fork", "UNIX-CONNECT:\(socket)"],
      pipeStdin: false)
    defer { socat.killIfRunning() }
    try await eventually("socat to listen on \(proxy)") { FileManager.default.fileExists(atPath: proxy) }

    let result = try await run(
      try sagactlBinary(),
      [
        "load", "--socket", socket, "--also-socket", proxy, "--payments", "40", "--users", "4", "--concurrency", "4",
        "--first-user", "4000", "--json",
      ], timeout: .seconds(120))
    #expect(result.status == 0, "\(result.stderr)")
    let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
    #expect(report.outcomes == ["REWARDED": 40])
    #expect(report.verifyOk)
    // Four connections create the users and four make the payments: half of each through
    // the proxy; the polls and verify use the first socket.
    let accepted = socat.stderr.text.components(separatedBy: "accepting connection").count - 1
    #expect(accepted == 4, "\(socat.stderr.text.suffix(2000))")
  }

  @Test("--also-socket where nothing listens: exit 1 naming that socket, no figures")
  func alsoSocketMissing() async throws {
    let dev = try DevDaemon()
    let (daemon, socket) = (dev.process, dev.socket)
    defer { daemon.killIfRunning() }
    try await waitForAdminSocket(socket, of: daemon)
    let missing = dev.directory.path + "/nobody.sock"
    let result = try await run(
      try sagactlBinary(),
      ["load", "--socket", socket, "--also-socket", missing, "--payments", "10", "--users", "2", "--concurrency", "2"],
      timeout: .seconds(60))
    #expect(result.status == 1)
    #expect(result.stderr.contains(missing), "\(result.stderr)")
    #expect(result.stdout.isEmpty)
  }

  @Test("SIGTERM in the middle of a load: sagad exits 0; restarted, every payment completes and verify is clean")
  func sigtermDuringLoad() async throws {
    let setup = try await ConfiguredDaemon.make()
    defer { setup.cleanUp() }
    let socket = setup.socket

    let first = try await setup.start()
    defer { first.killIfRunning() }
    let load = try ChildProcess(
      try sagactlBinary(),
      ["load", "--socket", socket, "--payments", "2000", "--users", "20", "--unenrolled", "0.2", "--rate", "400"],
      pipeStdin: false)
    defer { load.killIfRunning() }
    let client = try await AdminTestClient.connect(socket)
    try await eventually("the load to have made 100 payments", timeout: .seconds(60)) {
      (try await client.send("payment 100")).code == .ok
    }
    first.signal(SIGTERM)
    #expect(try await first.waitForExit(timeout: .seconds(30)) == 0, "\(first.stderr.text.suffix(3000))")
    // The load loses its connections: it reports that and fails rather than printing figures.
    #expect(try await load.waitForExit(timeout: .seconds(30)) == 1)

    let second = try await setup.start()
    defer { second.killIfRunning() }
    let admin = try await AdminTestClient.connect(socket)
    // Payment ids are dense from 1: every one made before the SIGTERM must end.
    var made = 0
    while (try await admin.send("payment \(made + 1)")).code == .ok { made += 1 }
    #expect(made >= 100)
    var finished = Set<Int>()
    try await eventually("all \(made) sagas to end after the restart", timeout: .seconds(90)) {
      for id in 1...made where !finished.contains(id) {
        let reply = try await admin.send("payment \(id) --json")
        let payment = try JSONDecoder().decode(AdminJSON.Payment.self, from: Data((reply.json ?? "").utf8))
        if ["REWARDED", "REFUNDED"].contains(payment.status) { finished.insert(id) }
      }
      return finished.count == made
    }
    let verify = try await admin.send("verify --json")
    #expect(
      try JSONDecoder().decode(AdminJSON.Verify.self, from: Data((verify.json ?? "").utf8))
        == AdminJSON.Verify(ok: true, violations: []))
    second.signal(SIGTERM)
    #expect(try await second.waitForExit(timeout: .seconds(30)) == 0)
  }
}
