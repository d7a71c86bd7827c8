public import SagaStorage
import Synchronization

extension PostgresServer {
  /// The server of the running suite (``PostgresServerTrait``); nil outside such a suite.
  @TaskLocal public static var current: PostgresServer?

  /// Names the test databases uniquely within the process, hence on every server.
  private static let databases = Atomic<Int>(0)

  /// The running suite's server.
  /// - Throws: ``Failure`` when the suite lacks the `.postgresServer` trait.
  public static func suiteServer() throws -> PostgresServer {
    guard let current else {
      throw Failure("no PostgreSQL server for this test: add the trait .postgresServer to its suite")
    }
    return current
  }

  /// Creates a new, empty database on this server for one test and returns how to reach it
  /// (plain TCP, a small pool: many tests share the server).
  public func freshDatabase(poolSize: Int = 2) async throws -> PostgresStorageConfiguration {
    let name = "t_\(Self.databases.add(1, ordering: .relaxed).newValue)"
    try await psql("CREATE DATABASE \(name)", database: "postgres")
    return PostgresStorageConfiguration(
      host: "127.0.0.1", port: port, database: name, sslMode: .disable, poolSize: poolSize,
      applicationName: "sagad-test")
  }
}
