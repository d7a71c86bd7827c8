import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

/// sagad on PostgreSQL (`storage.engine: postgres`), as processes: the saga end to end with
/// every row in the server's schemas, and a start that waits for a server that is not up yet.
@Suite("sagad on PostgreSQL", .timeLimit(.minutes(3)))
struct PostgresProcessTests {
  static func environment(_ server: PostgresServer) -> [String: String?] {
    ["SAGAD_STORAGE_ENGINE": "postgres", "SAGAD_STORAGE_POSTGRES_URL": server.url + "?sslmode=disable"]
  }

  @Test("split roles on one PostgreSQL: rewards and compensations, verify clean, the rows in the server's schemas")
  func sagaOnPostgres() async throws {
    let server = try await PostgresServer.start()
    defer { server.stop() }
    let broker = try await DevBrokerProcess.start()
    defer { broker.cleanUp() }
    let pair = try await SplitPair.start(broker: broker.bootstrap, environment: Self.environment(server))
    defer { pair.stop() }
    do {
      let payments = try await connectAdmin(pair.payments.socket, of: pair.paymentsDaemon)
      let points = try await connectAdmin(pair.points.socket, of: pair.pointsDaemon)
      #expect(try await payments.send("user add 1 --balance 1000000 --no-points").code == .ok)
      #expect(try await payments.send("user add 2 --balance 1000000 --no-points").code == .ok)
      #expect(try await points.send("user add 1").code == .ok)
      // User 2 is not enrolled in Points: its payments are compensated (refunded).
      for schedule in 1...10 {
        let user = schedule % 2 + 1
        #expect(try await payments.send("pay --user \(user) --schedule \(schedule) --amount 10000").code == .ok)
      }
      try await eventually("every payment terminal", timeout: .seconds(60)) {
        let rows = try await server.psql(
          "SELECT count(*) FROM payments.payments WHERE status IN ('REWARDED', 'REFUNDED')")
        return rows.trimmingCharacters(in: .whitespacesAndNewlines) == "10"
      }
      let statuses = try await server.psql(
        "SELECT user_id, status, count(*) FROM payments.payments GROUP BY 1, 2 ORDER BY 1, 2")
      #expect(statuses.split(separator: "\n") == ["1|REWARDED|5", "2|REFUNDED|5"], "\(statuses)")
      let ledger = try await server.psql("SELECT count(*), sum(amount) FROM points.point_ledger")
      #expect(ledger.trimmingCharacters(in: .whitespacesAndNewlines) == "5|5000")
      let balance = try await server.psql("SELECT balance FROM payments.wallets WHERE user_id = 2")
      #expect(balance.trimmingCharacters(in: .whitespacesAndNewlines) == "1000000", "refunds restored user 2")
      let clean = try await payments.send("verify --peer '\(pair.points.socket)'")
      #expect(clean.code == .ok, "\(clean.lines)")
      let migrations = try await server.psql("SELECT id FROM payments.sagad_migrations ORDER BY id")
      #expect(migrations.split(separator: "\n") == ["payments-v1", "storage-v1"], "\(migrations)")
    } catch {
      Issue.record("\(pair.stderr)\nPostgreSQL log:\n\(server.logText.suffix(3000))")
      throw error
    }
  }

  @Test("a server that does not answer yet: sagad waits, says why, and starts when it answers")
  func waitsForTheServer() async throws {
    let server = try await PostgresServer.start()
    defer { server.stop() }
    let node = try LagProcessTests.SplitNode(role: "points", broker: "127.0.0.1:1")
    // Frozen: connections are accepted by the kernel and never answered, as a host that hangs.
    let frozen = server.pause()
    var environment = Self.environment(server)
    environment["SAGAD_STORAGE_POSTGRES_CONNECT_TIMEOUT"] = "500ms"
    let daemon = try ChildProcess(
      try sagadBinary(), ["--config", node.config], pipeStdin: false, environment: environment)
    defer { daemon.killIfRunning() }
    do {
      try await eventually("sagad to say it waits for PostgreSQL", timeout: .seconds(30)) {
        daemon.stderr.text.contains("PostgreSQL cannot be reached; sagad is not ready and tries again")
      }
      #expect(daemon.isRunning)
      #expect(!FileManager.default.fileExists(atPath: node.socket), "no admin socket before the storage opened")
      server.resume(frozen)
      try await waitForAdminSocket(node.socket, of: daemon)
      let migrated = try await server.psql("SELECT id FROM points.sagad_migrations ORDER BY id")
      #expect(migrated.split(separator: "\n") == ["points-v1", "storage-v1"])
    } catch {
      server.resume(frozen)
      Issue.record("sagad stderr:\n\(daemon.stderr.text.suffix(3000))")
      throw error
    }
  }

  @Test("a role the server does not know ends the start with the server's reason, never the password")
  func refusedLogin() async throws {
    let server = try await PostgresServer.start()
    defer { server.stop() }
    let node = try LagProcessTests.SplitNode(role: "points", broker: "127.0.0.1:1")
    let url = "postgres://nobody@127.0.0.1:\(server.port)/sagad?sslmode=disable"
    let daemon = try ChildProcess(
      try sagadBinary(), ["--config", node.config], pipeStdin: false,
      environment: [
        "SAGAD_STORAGE_ENGINE": "postgres", "SAGAD_STORAGE_POSTGRES_URL": url, "PGPASSWORD": "not-to-be-shown",
      ])
    defer { daemon.killIfRunning() }
    let status = try await daemon.waitForExit(timeout: .seconds(30))
    #expect(status != 0)
    let stderr = daemon.stderr.text
    #expect(stderr.contains("role \"nobody\" does not exist"), "\(stderr.suffix(2000))")
    #expect(!stderr.contains("not-to-be-shown"))
  }
}
