import Foundation
import SagaStorage
import SagaTestSupport
import Testing

/// A server on the same host is reached through its Unix-domain socket when the URL's host is
/// a directory, as with libpq (Docs/storage-engines.md, "Configuration").
@Suite("PostgreSQL over a Unix-domain socket", .postgresServer, .timeLimit(.minutes(2)))
struct PostgresSocketTests {
  @Test("transactions and leases go through the socket: the server sees no client address")
  func socket() async throws {
    let server = try PostgresServer.suiteServer()
    let tcp = try await server.freshDatabase()
    let url = "postgres://sagad@:\(server.port)/\(tcp.database)?host=\(server.dataDirectory)"
    let configuration = try PostgresStorageConfiguration(url: url)
    #expect(configuration.socketPath == "\(server.dataDirectory)/.s.PGSQL.\(server.port)")
    let engine = try await PostgresEngine.connect(configuration, schema: "public", logger: quietLogger)
    // `client_addr` is NULL for a Unix-domain session and 127.0.0.1 over TCP loopback.
    let address = try await engine.write { db in
      try db.execute("CREATE TABLE probe (n BIGINT)", [])
      try db.execute("INSERT INTO probe (n) VALUES (?)", [Int64(7)])
      return try db.query(
        "SELECT coalesce(host(client_addr), 'socket') FROM pg_stat_activity WHERE pid = pg_backend_pid()", [])[0]
        .decode(0) as String
    }
    #expect(address == "socket")
    #expect(try await engine.read { db in try db.query("SELECT n FROM probe", [])[0].decode(0) as Int64 } == 7)
    let lease = engine.lease(named: "relay payments")
    #expect(await lease.tryAcquire())
    await lease.close()
    await engine.close()
  }
}
