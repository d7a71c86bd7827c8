/// A test fixture that runs something which must be stopped, also when the test fails.
public protocol StoppableFixture {
  func stop() async
}

extension StoppableFixture {
  /// Runs `body` with the fixture, then stops it, also when `body` throws.
  public func use(_ body: (Self) async throws -> Void) async throws {
    do {
      try await body(self)
    } catch {
      await stop()
      throw error
    }
    await stop()
  }
}
