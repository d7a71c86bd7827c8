public import Testing

/// `.postgresServer`: a throwaway PostgreSQL server for the suite it is attached to, published
/// to every test in it as ``PostgresServer/current``. Suites running at the same time share one
/// server (``SharedPostgresServer``), stopped by its pid when the last of them ends, also when a
/// test failed or threw. Each test takes a database of its own on it
/// (``PostgresServer/freshDatabase(poolSize:)``): a server start costs 1-2 s, a database 0.1 s.
public struct PostgresServerTrait: SuiteTrait, TestScoping {
  /// The suite's scope holds the server; its tests see it through the task-local.
  public var isRecursive: Bool { false }

  public func provideScope(
    for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
  ) async throws {
    let server = try await SharedPostgresServer.shared.acquire()
    do {
      try await PostgresServer.$current.withValue(server) { try await function() }
    } catch {
      await SharedPostgresServer.shared.release()
      throw error
    }
    await SharedPostgresServer.shared.release()
  }
}

extension Trait where Self == PostgresServerTrait {
  /// One PostgreSQL server for the whole suite; see ``PostgresServerTrait``.
  public static var postgresServer: Self { PostgresServerTrait() }
}
