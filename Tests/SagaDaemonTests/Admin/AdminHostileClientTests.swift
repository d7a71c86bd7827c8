import AdminProtocol
import Foundation
import SagaTestSupport
import Synchronization
import Testing

@testable import SagaDaemon

/// Hostile load on the admin socket beyond AdminServerTests' single bad clients: a crowd
/// of connections at once, and bad input from several clients while one keeps working.
@Suite("Admin server under hostile load", .timeLimit(.minutes(2)))
struct AdminHostileClientTests {
  @Test("200 concurrent connections: admitted ones are served, the rest get 8005; a bystander is served throughout")
  func twoHundredConnections() async throws {
    try await AdminServerHarness.with(maxConnections: 32) { harness in
      let bystander = try await harness.connect()
      let held = HeldClients()
      let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
        for _ in 0..<200 {
          group.addTask {
            do throws(AdminClientError) {
              // A generous timeout: 200 connections at once on a loaded 2-core machine can
              // keep a rejection's reply waiting past the default 10 s.
              let client = try await harness.connect(timeout: .seconds(60))
              // Keep it open so that the limit really is reached.
              held.clients.withLock { $0.append(client) }
              return try await client.send("version").code == .ok ? "served" : "wrong reply"
            } catch {
              return error.kind == .rejected && error.reply?.code == .tooManyConnections
                ? "rejected" : "error \(error)"
            }
          }
        }
        var outcomes: [String: Int] = [:]
        for try await outcome in group { outcomes[outcome, default: 0] += 1 }
        return outcomes
      }
      // The bystander holds one of the 32 slots.
      #expect(outcomes["served"] == 31, "\(outcomes)")
      #expect(outcomes["rejected"] == 169, "\(outcomes)")
      #expect(try await bystander.send("version").code == .ok)
      for client in held.clients.withLock({ $0 }) { client.close() }
      #expect(try await harness.connectWhenAdmitted().send("status").code == .ok)
    }
  }

  @Test("binary bytes, an unterminated quote and a 1 MB line on other connections; one client keeps being served")
  func mixedHostileInput() async throws {
    try await AdminServerHarness.with { harness in
      let bystander = try await harness.connect()
      let binary = try await harness.connect()
      try await binary.write((0..<255).map { UInt8($0) }.filter { $0 != 0x0A } + [0x0A])
      #expect(try await binary.readReply().code == .badEncoding)
      #expect(try await bystander.send("version").code == .ok)

      let quote = try await harness.connect()
      #expect(try await quote.send("user add \"1").code == .badQuoting)
      #expect(try await quote.send("version").code == .ok, "the connection survives a quoting error")

      let big = try await harness.connect()
      try? await big.write([UInt8](repeating: 0x41, count: 1 << 20))
      #expect(try await big.readReply().code == .lineTooLong)
      #expect(try await bystander.send("help").code == .ok)
      #expect(try await bystander.send("verify").code == .ok)
    }
  }
}

/// Connections a test keeps open until it is done with them.
private final class HeldClients: Sendable {
  let clients = Mutex<[AdminTestClient]>([])
}
