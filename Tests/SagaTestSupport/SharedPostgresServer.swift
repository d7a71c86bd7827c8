/// The one PostgreSQL server of the suites that run at the same time in a test process. With
/// a server per suite, the twenty-odd storage suites started twenty-odd servers at once, and
/// on two cores the timing tests running beside them starved. It starts with the first suite
/// that asks, and stops (by its pid) when the last suite using it ends; a later suite starts
/// another. The suites check behaviour, not durability: no fsync (crash tests start their own).
actor SharedPostgresServer {
  static let shared = SharedPostgresServer()

  private var server: PostgresServer?
  private var starting: Task<PostgresServer, any Error>?
  private var users = 0

  func acquire() async throws -> PostgresServer {
    users += 1
    if let server { return server }
    let start = starting ?? Task { try await PostgresServer.start(durable: false) }
    starting = start
    do {
      let started = try await start.value
      server = started
      starting = nil
      return started
    } catch {
      starting = nil
      users -= 1
      throw error
    }
  }

  func release() async {
    users -= 1
    guard users == 0, let server else { return }
    self.server = nil
    await server.shutDown()
  }
}
