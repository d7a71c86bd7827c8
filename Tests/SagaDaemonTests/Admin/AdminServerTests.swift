import AdminProtocol
import Foundation
import Payments
import Points
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

@testable import SagaDaemon

/// The admin server in this process on a temporary socket, with Payments and Points on
/// bare databases (no Kafka: the commands under test need none).
final class AdminServerHarness: StoppableFixture, Sendable {
  let directory: TemporaryDirectory
  let server: AdminServer
  let socket: String
  private let task: Task<Void, any Error>

  init(maxConnections: Int = 32, idleTimeout: Duration = .seconds(300), clock: SagaClock = .continuous) async throws {
    directory = try TemporaryDirectory()
    let commands = try AdminCommands.onBareDatabases(in: directory)
    socket = directory.path + "/admin.sock"
    var settings = AdminSettings(socketPath: socket)
    settings.maxConnections = maxConnections
    settings.idleTimeout = idleTimeout
    let server = AdminServer(
      settings: settings, commands: commands, version: "9.9.9", clock: clock, logger: quietLogger)
    self.server = server
    task = Task { try await server.run() }
    let path = socket
    try await eventually("the admin socket to accept connections") {
      (try? await AdminTestClient.connect(path, timeout: .seconds(5))) != nil
    }
  }

  func connect(timeout: Duration = .seconds(10)) async throws(AdminClientError) -> AdminTestClient {
    try await AdminTestClient.connect(socket, timeout: timeout)
  }

  /// A connection once the server has room for it: closed probes free their slot only
  /// when the server has read their EOF.
  func connectWhenAdmitted() async throws -> AdminTestClient {
    var client: AdminTestClient?
    try await eventually("a connection to be admitted") {
      client = try? await connect()
      return client != nil
    }
    return client!
  }

  func stop() async {
    task.cancel()
    _ = try? await task.value
  }

  /// Runs `body` against a fresh server and stops it afterwards, also when `body` fails.
  static func with(
    maxConnections: Int = 32, idleTimeout: Duration = .seconds(300), clock: SagaClock = .continuous,
    _ body: (AdminServerHarness) async throws -> Void
  ) async throws {
    try await AdminServerHarness(maxConnections: maxConnections, idleTimeout: idleTimeout, clock: clock).use(body)
  }
}

/// The server closed `client`: reading on ends without a reply.
private func expectClosed(_ client: AdminTestClient, sourceLocation: SourceLocation = #_sourceLocation) async {
  do throws(AdminClientError) {
    let reply = try await client.readReply()
    Issue.record("the connection is still open; it answered \(reply.lines)", sourceLocation: sourceLocation)
  } catch {
    #expect(error.kind == .closed, "\(error)", sourceLocation: sourceLocation)
  }
}

@Suite("Admin server on a Unix socket", .timeLimit(.minutes(2)))
struct AdminServerTests {
  @Test("banner, a data command, JSON, an unknown command, binary noise: each gets its coded reply")
  func transcript() async throws {
    try await AdminServerHarness.with { harness in
      let client = try await harness.connect()
      #expect(client.banner.text == "sagad 9.9.9 proto=1 level=admin")
      #expect(client.level == .admin)

      let added = try await client.send("user add 1 --balance 100000")
      #expect(added.code == .ok)
      #expect(added.text == "user 1 added: wallet 100000 KRW, enrolled in Points")

      let table = try await client.send("balance 1")
      #expect(table.lines.map(\.code) == [.header, .row, .ok])
      #expect(table.lines[1].cells == ["1", "100000", "0"])

      let json = try await client.send("balance user=1 --json")
      let balance = try JSONDecoder().decode(AdminJSON.Balance.self, from: Data(try #require(json.json).utf8))
      #expect(balance == AdminJSON.Balance(userId: 1, wallet: 100_000, points: 0))
      #expect(json.encoded() == "1002-{\"points\":0,\"userId\":1,\"wallet\":100000}\n0000 ok\n")

      #expect(try await client.send("frobnicate now").code == .unknownCommand)
      #expect(try await client.send("balance 'unterminated").code == .badQuoting)
      #expect(try await client.send("user add 1").code == .refused)
      #expect(try await client.send("payment 42").code == .notFound)
      try await client.write([0x00, 0xFF, 0xFE, 0x0A])
      #expect(try await client.readReply().code == .badEncoding)
      // Still serving the same connection after all that.
      #expect(try await client.send("version").text == "sagad 9.9.9 proto=1")
      #expect(try await client.send("verify").code == .ok)
    }
  }

  @Test("pipelined requests are answered in request order; a command between pays sees exactly the pays before it")
  func pipelining() async throws {
    try await AdminServerHarness.with { harness in
      let client = try await harness.connect()
      #expect(try await client.send("user add 7 --balance 1000000").code == .ok)
      // Sent in one write, read afterwards: 10 pays, a balance, 10 more pays, the payments.
      // Each pay's amount names it, so the order of the replies can be checked.
      let amounts = (1...20).map { Int64(1_000 + $0) }
      var lines = amounts.prefix(10).enumerated().map {
        "pay --user 7 --schedule \($0.offset + 1) --amount \($0.element) --json"
      }
      lines.append("balance 7 --json")
      lines += amounts.suffix(10).enumerated().map {
        "pay --user 7 --schedule \($0.offset + 11) --amount \($0.element) --json"
      }
      lines.append("payments --from 1 --json")
      try await client.write(Array(lines.joined(separator: "\n").utf8) + [0x0A])
      var replies: [AdminReply] = []
      for _ in lines { replies.append(try await client.readReply()) }

      func paid(_ reply: AdminReply) throws -> AdminJSON.Paid {
        try JSONDecoder().decode(AdminJSON.Paid.self, from: Data(try #require(reply.json).utf8))
      }
      let paidAmounts = try (replies[0..<10] + replies[11..<21]).map { try paid($0).amount }
      #expect(paidAmounts == amounts, "replies in request order")
      let balance = try JSONDecoder().decode(AdminJSON.Balance.self, from: Data(try #require(replies[10].json).utf8))
      #expect(balance.wallet == 1_000_000 - amounts.prefix(10).reduce(0, +), "the balance saw the first ten pays only")
      let all = try JSONDecoder().decode(AdminJSON.Payments.self, from: Data(try #require(replies[21].json).utf8))
      #expect(all.payments.count == 20, "the last command saw every pay")

      // The same idempotency key twice in one pipeline: one payment, the other reply names it.
      let twice = "pay --user 7 --schedule 99 --amount 500 --json\n"
      try await client.write(Array((twice + twice).utf8))
      let (first, second) = (try paid(try await client.readReply()), try paid(try await client.readReply()))
      #expect([first.duplicate, second.duplicate].sorted { !$0 && $1 } == [false, true])
      #expect(first.paymentId == second.paymentId)
      #expect(try await client.send("version").code == .ok)
    }
  }

  @Test("a request written while a lone one runs is answered after it, and sees what it did")
  func writtenDuringLoneRequest() async throws {
    try await AdminServerHarness.with { harness in
      let client = try await harness.connect()
      #expect(try await client.send("user add 8 --balance 5000").code == .ok)
      // Two writes: the pay arrives alone and runs on the connection's task; the balance comes
      // in a read of its own, however soon, and waits for the pay's reply.
      try await client.write(Array("pay --user 8 --schedule 1 --amount 1200 --json\n".utf8))
      try await client.write(Array("balance 8 --json\n".utf8))
      let paid = try await client.readReply()
      let balance = try await client.readReply()
      #expect(paid.code.replyClass == .done && paid.json?.contains("\"amount\":1200") == true, "\(paid)")
      let shown = try JSONDecoder().decode(AdminJSON.Balance.self, from: Data(try #require(balance.json).utf8))
      #expect(shown.wallet == Int64(5000 - 1200), "the balance saw the pay")
    }
  }

  @Test("an over-long line gets 9002 and its connection is closed; another connection is unaffected")
  func overlongLine() async throws {
    try await AdminServerHarness.with { harness in
      let bystander = try await harness.connect()
      let hostile = try await harness.connect()
      try await hostile.write([UInt8](repeating: UInt8(ascii: "a"), count: 5000))
      #expect(try await hostile.readReply().code == .lineTooLong)
      await expectClosed(hostile)

      // A full megabyte: the server reads and discards it; the write may fail once it closes.
      let big = try await harness.connect()
      try? await big.write([UInt8](repeating: UInt8(ascii: "b"), count: 1 << 20) + [0x0A])
      #expect(try await big.readReply().code == .lineTooLong)

      #expect(try await bystander.send("version").code == .ok)
      #expect(try await harness.connect().send("status").code == .ok)
    }
  }

  @Test("connections beyond admin.max_connections get 8005 and are closed; a freed slot is reused")
  func connectionLimit() async throws {
    try await AdminServerHarness.with(maxConnections: 2) { harness in
      var first: AdminTestClient? = try await harness.connectWhenAdmitted()
      let second = try await harness.connectWhenAdmitted()
      do throws(AdminClientError) {
        _ = try await harness.connect()
        Issue.record("a third connection was admitted")
      } catch {
        #expect(error.kind == .rejected)
        #expect(error.reply?.code == .tooManyConnections)
      }
      #expect(try await second.send("version").code == .ok)
      first?.close()
      first = nil
      let third = try await harness.connectWhenAdmitted()
      #expect(try await third.send("version").code == .ok)
    }
  }

  @Test("a client that never reads its replies does not hold up another")
  func clientThatNeverReads() async throws {
    try await AdminServerHarness.with { harness in
      // A 1 s timeout so its writes give up soon; connecting is retried, since a loaded
      // machine may take longer than that to send the banner.
      var connected: AdminTestClient?
      try await eventually("a connection with a 1 s timeout", timeout: .seconds(60)) {
        connected = try? await harness.connect(timeout: .seconds(1))
        return connected != nil
      }
      let stuck = try #require(connected)
      // Enough requests that the replies (about 1 KB each) overflow every socket buffer;
      // the write gives up once the server stops reading.
      let request = Array("help\n".utf8)
      var sent = 0
      do throws(AdminClientError) {
        for _ in 0..<20_000 {
          try await stuck.write(request)
          sent += 1
        }
      } catch {
        #expect(error.kind == .timeout)
      }
      // A generous timeout: on a loaded CI machine the whole test process can pause for
      // seconds; what matters is that the other client is answered at all, while the
      // stuck one still holds its unread replies.
      let other = try await harness.connect(timeout: .seconds(60))
      #expect(try await other.send("help").code == .ok)
      #expect(try await other.send("balance 1").code == .notFound)
      #expect(sent > 0)
    }
  }

  @Test("an idle connection is told and closed after admin.idle_timeout; a request starts the count again")
  func idleTimeout() async throws {
    let clock = TestClock()
    let timeout = Duration.seconds(300)
    try await AdminServerHarness.with(idleTimeout: timeout, clock: SagaClock(clock)) { harness in
      let idle = try await harness.connect()
      // Connected at t+0: one second short of the timeout it still answers, and that
      // request moves the end of the count to t+599.
      await clock.advance(by: timeout - .seconds(1))
      #expect(try await idle.send("version").code == .ok)
      await clock.advance(by: .seconds(1))
      let end = TestClock.Instant(offset: timeout * 2 - .seconds(1))
      try await clock.waitForSleepers("the idle timer counting from the request") { $0.contains(end) }
      await clock.advance(by: timeout - .seconds(2))
      #expect(clock.sleepers.contains(end), "not idle for long enough yet")
      await clock.advance(by: .seconds(1))
      #expect(try await idle.readReply().code == .idleTimeout)
      await expectClosed(idle)
    }
  }

  @Test("the level is enforced per command, and mutating commands are refused below operate")
  func levels() async throws {
    try await AdminServerHarness.with { harness in
      let peer = PeerCredentials(pid: 1, uid: 4242, gid: 4242)
      let pay = Array("pay --user 1 --schedule 1 --amount 5".utf8)
      let denied = await harness.server.handle(pay, peer: peer, level: .read)
      #expect(denied.code == .permissionDenied)
      #expect(denied.text.contains("needs level operate"))
      #expect(await harness.server.handle(Array("version".utf8), peer: peer, level: .read).code == .ok)
      #expect(await harness.server.handle(pay, peer: peer, level: .operate).code == .notFound)
    }
  }

  @Test("levels come from uid and groups; a peer in no configured group is refused")
  func accessPolicy() {
    var settings = AdminSettings(socketPath: "/unused")
    settings.operatorGroups = ["ops"]
    settings.readGroups = ["viewers", "1500"]
    var policy = AdminAccessPolicy(settings: settings, daemonUID: 990)
    policy.groupID = { ["ops": 100, "viewers": 200, "1500": 1500][$0] }
    policy.groupsOf = { peer in [peer.gid] }
    func level(uid: UInt32, gid: UInt32) -> PermissionLevel? {
      try? policy.level(for: PeerCredentials(pid: 1, uid: uid, gid: gid)).get()
    }
    #expect(level(uid: 0, gid: 0) == .admin)
    #expect(level(uid: 990, gid: 990) == .admin)
    #expect(level(uid: 1000, gid: 100) == .operate)
    #expect(level(uid: 1000, gid: 200) == .read)
    #expect(level(uid: 1000, gid: 1500) == .read)
    #expect(level(uid: 1000, gid: 300) == nil)
    if case .failure(let error) = policy.level(for: PeerCredentials(pid: 1, uid: 1000, gid: 300)) {
      #expect(error.code == .permissionDenied)
      #expect(error.message.contains("uid 1000"))
    }
    if case .failure(let error) = policy.level(for: nil) {
      #expect(error.code == .permissionDenied)
    }
  }
}
