public import ServiceLifecycle

/// A long-running service an operator can pause and resume without stopping it (a
/// consume worker: it keeps its group membership, fetching nothing).
public protocol PausableService: Service {
  var isPaused: Bool { get }
  func pause() async throws
  func resume() async throws
}
