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
}
