public import SagaStorage

extension SagaDatabase {
  /// Runs `body`, then closes the database, also when `body` throws: a PostgreSQL engine's
  /// connections and threads end with the test that opened them.
  public func closing<T>(_ body: () async throws -> T) async throws -> T {
    let value: T
    do {
      value = try await body()
    } catch {
      try? await close()
      throw error
    }
    try await close()
    return value
  }
}
