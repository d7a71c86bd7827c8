public import Testing

/// `.postgresServer`: one throwaway PostgreSQL server for the suite it is attached to. It is
/// started before the suite's first test, published to every test in it as
/// ``PostgresServer/current``, and stopped by its pid when the suite ends, also when a test
/// failed or threw. Each test takes a database of its own on it
/// (``PostgresServer/freshDatabase(poolSize:)``): a server start costs 1-2 s, a database 0.1 s.
public struct PostgresServerTrait: SuiteTrait, TestScoping {
  /// The suite's scope holds the server; its tests see it through the task-local.
  public var isRecursive: Bool { false }

  public func provideScope(
    for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
  ) async throws {
    // The suite checks behaviour, not durability: no fsync (crash tests start their own server).
    let server = try await PostgresServer.start(durable: false)
    do {
      try await PostgresServer.$current.withValue(server) { try await function() }
    } catch {
      await server.shutDown()
      throw error
    }
    await server.shutDown()
  }
}

extension Trait where Self == PostgresServerTrait {
  /// One PostgreSQL server for the whole suite; see ``PostgresServerTrait``.
  public static var postgresServer: Self { PostgresServerTrait() }
}
