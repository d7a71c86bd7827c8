import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

/// `lag` on a live sagad: a consumer wedged while records keep arriving is judged ERR.
@Suite("sagad lag status", .timeLimit(.minutes(2)))
struct LagProcessTests {
  @Test("a wedged consumer whose lag grows at every sample while nothing is committed is ERR; it recovers to OK")
  func wedgedConsumerIsErr() async throws {
    let dev = try DevDaemon(environment: [
      "SAGAD_METRICS_LISTEN": "127.0.0.1:0", "SAGAD_KAFKA_STATISTICS_INTERVAL": "400ms", "SAGAD_LAG_WINDOW": "3",
    ])
    let (daemon, socket) = (dev.process, dev.socket)
    defer { daemon.killIfRunning() }
    do {
      let client = try await connectAdmin(socket, of: daemon)
      func lag() async throws -> AdminJSON.Lag {
        let reply = try await client.send("lag --json")
        return try JSONDecoder().decode(AdminJSON.Lag.self, from: Data(try #require(reply.json).utf8))
      }
      #expect(try await client.send("user add 1 --balance 100000000").code == .ok)
      #expect(try await client.send("pay --user 1 --schedule 1 --amount 100").code == .ok)
      try await eventually("the first saga's reward to be committed") {
        try await lag().partitions.contains { $0.group == "points-service" && $0.committed != nil }
      }
      // The next commit of a worker (the points worker's, for the next payment) takes 8 s.
      #expect(try await client.send("failpoint set db.commit 'delay(8000)' --count 1").code == .ok)
      var schedule: Int64 = 2
      var judged: AdminJSON.Lag?
      try await eventually("lag to turn ERR for points-service", timeout: .seconds(8)) {
        // Keep ReservationCompleted coming, so every partition's high watermark grows.
        for _ in 0..<3 {
          _ = try await client.send("pay --user 1 --schedule \(schedule) --amount 100")
          schedule += 1
        }
        judged = try await lag()
        return judged?.partitions.contains { $0.group == "points-service" && $0.status == "ERR" } == true
      }
      #expect(judged?.status == "ERR")
      try await eventually("the consumer to catch up and lag to be OK again", timeout: .seconds(30)) {
        let now = try await lag()
        return now.status == "OK" && now.partitions.allSatisfy { ($0.lag ?? 0) == 0 }
      }
      daemon.signal(SIGTERM)
      #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 0)
    } catch {
      Issue.record("sagad stderr:\n\(daemon.stderr.text.suffix(4000))")
      throw error
    }
  }
}
