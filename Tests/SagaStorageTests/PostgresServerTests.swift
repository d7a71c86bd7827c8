import Foundation
import SagaTestSupport
import Testing

/// The throwaway PostgreSQL server the storage tests will run against (issue 14): Debian's
/// server, started by the test on a free loopback port, not as root, and stopped by its pid.
@Suite("PostgreSQL test server", .timeLimit(.minutes(2)))
struct PostgresServerTests {
  @Test("starts on a free loopback port with fsync on, answers as sagad, and stops by its own pid")
  func startAndStop() async throws {
    let server = try await PostgresServer.start()
    defer { server.stop() }
    #expect(try await server.psql("SELECT 1") == "1")
    #expect(try await server.psql("SELECT current_database() || ' ' || current_user") == "sagad sagad")
    #expect(try await server.psql("SHOW fsync") == "on")
    #expect(try await server.psql("SHOW listen_addresses") == "127.0.0.1")
    #expect(try await server.psql("SHOW port") == String(server.port))
    // The server refuses to run as root: as root, the test runs it as Debian's postgres user.
    let owner = try FileManager.default.attributesOfItem(atPath: server.dataDirectory)[.ownerAccountName] as? String
    #expect(owner == (geteuid() == 0 ? "postgres" : NSUserName()))
    #expect(
      try await server.psql("CREATE TABLE t (id bigint PRIMARY KEY); INSERT INTO t VALUES (7); SELECT id FROM t") == "7"
    )

    server.stop()
    #expect(!server.isRunning)
    await #expect(throws: PostgresServer.Failure.self) { try await server.psql("SELECT 1") }
    #expect(server.logText.contains("database system is shut down"))
  }

  @Test("reads the server's log as it comes: a server logging far more than a pipe holds never blocks")
  func logBeyondPipe() async throws {
    let server = try await PostgresServer.start(durable: false)
    defer { server.stop() }
    // 2,000 lines of ~130 bytes, 260 KB, in one statement and nobody asking for the log
    // meanwhile: a pipe read only on request (64 KB) would block the backend here for good.
    try await server.psql(
      "DO $$ BEGIN FOR i IN 1..2000 LOOP RAISE LOG 'line % %', i, repeat('x', 100); END LOOP; END $$")
    #expect(try await server.psql("SELECT 1") == "1")
    try await eventually("the last line in the log", timeout: .seconds(30)) {
      server.logText.contains("line 2000 ")
    }
    #expect(server.logText.components(separatedBy: "LOG:  line ").count - 1 == 2000)
  }
}
