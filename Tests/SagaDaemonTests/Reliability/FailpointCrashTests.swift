import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

/// The crash drill of issue 4: `sagad --config` against a `sagad dev-broker`, a failpoint
/// armed with `crash` over the admin socket, a few payments, the process aborts; restarted
/// without the failpoint, every saga ends once and no money is created or lost.
@Suite("crash at each failpoint, then restart", .serialized, .timeLimit(.minutes(2)))
struct FailpointCrashTests {
  private static let initialBalance: Int64 = 1_000_000
  private static let amount: Int64 = 10_000

  private static func decode<T: Decodable>(_ type: T.Type, _ reply: AdminReply) throws -> T {
    try JSONDecoder().decode(type, from: Data((reply.json ?? "").utf8))
  }

  @Test(
    "crash, restart: one terminal state per payment, balances add up, verify clean",
    arguments: ["points.reward", "payments.refund", "outbox.publish", "consumer.before_offset_commit", "db.commit"])
  func crashAndRecover(failpoint: String) async throws {
    // A short session timeout: the crashed process never leaves its groups, and the
    // restarted one gets their partitions only once the broker gives up on it.
    let setup = try await ConfiguredDaemon.make(
      consumer: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"], extra: "failpoints:\n  enabled: true")
    defer { setup.cleanUp() }
    let socket = setup.socket

    let first = try await setup.start()
    defer { first.killIfRunning() }
    let client = try await AdminTestClient.connect(socket)
    #expect((try await client.send("user add 1 --balance \(Self.initialBalance)")).code == .ok)
    #expect((try await client.send("user add 2 --balance \(Self.initialBalance) --no-points")).code == .ok)
    let armed = try await client.send("failpoint set \(failpoint) crash")
    #expect(armed.code == .ok, "\(armed.lines)")
    // User 2 has no point account: its payment is refunded, which reaches payments.refund.
    // The process may abort before answering a pay; whatever was committed counts below.
    for (user, schedule) in [(1, 1), (2, 2), (1, 3)] {
      guard first.isRunning else { break }
      _ = try? await client.send("pay --user \(user) --schedule \(schedule) --amount \(Self.amount)")
    }
    try await eventually("sagad to abort at \(failpoint)", timeout: .seconds(60)) { !first.isRunning }
    #expect(first.termination == .signaled(SIGABRT))
    try await eventually("sagad's stderr to be drained") { first.stderr.isFinished }
    #expect(first.stderr.text.contains("failpoint \(failpoint) fired with action crash"))

    let second = try await setup.start()
    defer { second.killIfRunning() }
    let admin = try await AdminTestClient.connect(socket)
    #expect(
      try Self.decode(AdminJSON.Failpoints.self, try await admin.send("failpoint list --json")).failpoints.isEmpty)
    // Payment ids are dense from 1.
    var made = 0
    while (try await admin.send("payment \(made + 1)")).code == .ok { made += 1 }
    #expect(made >= 1)
    var payments: [Int: AdminJSON.Payment] = [:]
    try await eventually("all \(made) sagas to end after the restart", timeout: .seconds(60)) {
      for id in 1...made where payments[id] == nil {
        let payment = try Self.decode(AdminJSON.Payment.self, try await admin.send("payment \(id) --json"))
        if ["REWARDED", "REFUNDED"].contains(payment.status) { payments[id] = payment }
      }
      return payments.count == made
    }
    let verify = try Self.decode(AdminJSON.Verify.self, try await admin.send("verify --json"))
    #expect(verify == AdminJSON.Verify(ok: true, violations: []))

    // Money: each wallet lost exactly its rewarded payments; points are 10 % of them.
    for user in [1, 2] {
      let rewarded = payments.values.filter { $0.userId == user && $0.status == "REWARDED" }.reduce(0) {
        $0 + $1.amount
      }
      let balance = try Self.decode(AdminJSON.Balance.self, try await admin.send("balance \(user) --json"))
      #expect(balance.wallet == Self.initialBalance - rewarded, "user \(user)")
      #expect(balance.points == (user == 1 ? rewarded / 10 : nil), "user \(user)")
    }
    #expect(payments.values.filter { $0.userId == 2 }.allSatisfy { $0.status == "REFUNDED" })
    #expect(payments.values.filter { $0.userId == 1 }.allSatisfy { $0.status == "REWARDED" })
    second.signal(SIGTERM)
    #expect(try await second.waitForExit(timeout: .seconds(30)) == 0)
  }
}
