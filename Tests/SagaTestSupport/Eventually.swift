import Testing

/// Polls `condition` until it holds or `timeout` passes. Tests wait for a state this
/// way, never for a guessed duration; a timeout is recorded as an issue naming what
/// was awaited, and thrown so the test stops there.
public func eventually(
  _ what: @autoclosure () -> String, timeout: Duration = .seconds(30),
  _ condition: () async throws -> Bool
) async throws {
  let clock = ContinuousClock()
  let deadline = clock.now.advanced(by: timeout)
  while clock.now < deadline {
    if try await condition() { return }
    try await Task.sleep(for: .milliseconds(20))
  }
  Issue.record("timed out after \(timeout) waiting for: \(what())")
  throw TestTimeout(what: what())
}

/// Thrown by `eventually` when its condition never held.
public struct TestTimeout: Error, CustomStringConvertible {
  public let what: String
  public var description: String { "timed out waiting for \(what)" }
}
