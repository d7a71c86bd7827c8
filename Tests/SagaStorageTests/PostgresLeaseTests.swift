import Foundation
import SagaStorage
import SagaTestSupport
import Testing

/// Leases as session advisory locks (Docs/storage-engines.md, "Leases"), on a server of the test's
/// own: the scenario freezes it.
@Suite("PostgreSQL leases", .timeLimit(.minutes(2)))
struct PostgresLeaseTests {
  @Test("one holder at a time; a holder whose server stops answering gives the lease up within its patience")
  func frozenServer() async throws {
    let server = try await PostgresServer.start(durable: false)
    defer { server.stop() }
    let engine = try await PostgresEngine.connect(
      PostgresStorageConfiguration(url: server.url + "?sslmode=disable"), schema: "public", logger: quietLogger)
    let holder = engine.lease(named: "relay payments")
    let standby = engine.lease(named: "relay payments")
    #expect(await holder.tryAcquire())
    #expect(await !standby.tryAcquire())
    #expect(await holder.check())

    let frozen = server.pause()
    var resumed = false
    defer { if !resumed { server.resume(frozen) } }
    // Pings go out at most once a second; the one that gets no answer ends the lease. Without
    // the bound this loop would not end: the server neither answers nor closes the session.
    while await holder.check() {
      try await Task.sleep(for: .milliseconds(100))
    }
    server.resume(frozen)
    resumed = true

    // The holder closed its session, so the server freed the lock: the standby takes it.
    try await eventually("the standby takes the lease") { await standby.tryAcquire() }
    #expect(await !holder.tryAcquire())
    await holder.close()
    await standby.close()
    await engine.close()
  }
}
