import Synchronization
import Testing

/// A clock that moves only when a test advances it. Sleepers wait until `advance` passes
/// their deadline and are resumed in deadline order (ties in the order they began), each
/// with `now` set to its own deadline. So a test of a back-off or an idle timeout takes no
/// wall time, and asserts exact instants instead of "at least that long".
///
/// A component starts sleeping some time after the test made it do something: await that
/// with `waitForSleepers` before advancing, or the advance happens before the sleep begins.
public final class TestClock: Clock, Sendable {
  /// The time elapsed since the clock was made.
  public struct Instant: InstantProtocol, Sendable, Hashable, Comparable, CustomStringConvertible {
    public let offset: Duration

    public init(offset: Duration) { self.offset = offset }

    public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
    public func duration(to other: Instant) -> Duration { other.offset - offset }
    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    public static func + (lhs: Instant, rhs: Duration) -> Instant { lhs.advanced(by: rhs) }
    public static func - (lhs: Instant, rhs: Instant) -> Duration { rhs.duration(to: lhs) }
    public var description: String { "t+\(offset)" }
  }

  private struct Sleeper {
    let id: UInt64
    let deadline: Instant
    let continuation: CheckedContinuation<Void, any Error>
  }

  /// A test waiting for the sleepers to satisfy a condition.
  private struct Watcher {
    let id: UInt64
    let condition: @Sendable ([Instant]) -> Bool
    let continuation: CheckedContinuation<Void, any Error>
  }

  private struct State {
    var now = Instant(offset: .zero)
    var sleepers: [Sleeper] = []
    var watchers: [Watcher] = []
    var nextID: UInt64 = 0

    mutating func makeID() -> UInt64 {
      nextID += 1
      return nextID
    }

    /// The watchers whose condition now holds, removed.
    mutating func satisfiedWatchers() -> [Watcher] {
      let deadlines = sleepers.map(\.deadline)
      let ready = watchers.filter { $0.condition(deadlines) }
      watchers.removeAll { watcher in ready.contains { $0.id == watcher.id } }
      return ready
    }
  }

  private let state = Mutex(State())

  public init() {}

  public var now: Instant { state.withLock { $0.now } }
  public var minimumResolution: Duration { .zero }

  /// The deadlines of the tasks sleeping now, earliest first.
  public var sleepers: [Instant] { state.withLock { $0.sleepers.map(\.deadline).sorted() } }

  public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
    try Task.checkCancellation()
    let id = state.withLock { $0.makeID() }
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        enum Registration {
          case due
          case cancelled
          case sleeping([Watcher])
        }
        let registration = state.withLock { state -> Registration in
          if Task.isCancelled { return .cancelled }
          if deadline <= state.now { return .due }
          state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
          return .sleeping(state.satisfiedWatchers())
        }
        switch registration {
        case .due: continuation.resume()
        case .cancelled: continuation.resume(throwing: CancellationError())
        case .sleeping(let watchers): for watcher in watchers { watcher.continuation.resume() }
        }
      }
    } onCancel: {
      let (sleeper, watchers) = state.withLock { state -> (Sleeper?, [Watcher]) in
        guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return (nil, []) }
        let sleeper = state.sleepers.remove(at: index)
        return (sleeper, state.satisfiedWatchers())
      }
      sleeper?.continuation.resume(throwing: CancellationError())
      for watcher in watchers { watcher.continuation.resume() }
    }
  }

  /// Moves the clock `duration` forward, resuming every sleeper whose deadline it passes,
  /// earliest first. A task that sleeps again before the advance reaches its new deadline
  /// is resumed by the same advance.
  public func advance(by duration: Duration) async {
    precondition(duration >= .zero, "a clock does not go back")
    let target = now.advanced(by: duration)
    while true {
      let (next, watchers) = state.withLock { state -> (Sleeper?, [Watcher]) in
        let due = state.sleepers.indices.filter { state.sleepers[$0].deadline <= target }
        // Stable: among equal deadlines the first to sleep is first in the array.
        guard let index = due.min(by: { state.sleepers[$0].deadline < state.sleepers[$1].deadline }) else {
          state.now = max(state.now, target)
          return (nil, [])
        }
        let sleeper = state.sleepers.remove(at: index)
        state.now = max(state.now, sleeper.deadline)
        return (sleeper, state.satisfiedWatchers())
      }
      for watcher in watchers { watcher.continuation.resume() }
      guard let next else { return }
      next.continuation.resume()
      // Give the resumed task a chance to run (and maybe sleep again) before the next one.
      for _ in 0..<10 { await Task.yield() }
    }
  }

  /// Returns once the deadlines of the sleeping tasks satisfy `condition` (at once if
  /// they do). Looked at whenever a sleeper comes or goes, so it does not poll; after `timeout` of wall
  /// time it records an issue naming `what` and throws ``TestTimeout``.
  public func waitForSleepers(
    _ what: @autoclosure () -> String = "a task to sleep on the test clock", timeout: Duration = .seconds(30),
    where condition: @escaping @Sendable ([Instant]) -> Bool
  ) async throws {
    let description = what()
    let id = state.withLock { $0.makeID() }
    let waited = try await withThrowingTaskGroup(of: Bool.self) { group in
      group.addTask {
        try await withTaskCancellationHandler {
          try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let ready = self.state.withLock { state -> Bool in
              if Task.isCancelled || condition(state.sleepers.map(\.deadline)) { return true }
              state.watchers.append(Watcher(id: id, condition: condition, continuation: continuation))
              return false
            }
            if ready { continuation.resume() }
          }
        } onCancel: {
          let watcher = self.state.withLock { state -> Watcher? in
            guard let index = state.watchers.firstIndex(where: { $0.id == id }) else { return nil }
            return state.watchers.remove(at: index)
          }
          watcher?.continuation.resume(throwing: CancellationError())
        }
        return true
      }
      group.addTask {
        try await Task.sleep(for: timeout)
        return false
      }
      let first = try await group.next() ?? false
      group.cancelAll()
      return first
    }
    guard waited else {
      Issue.record("timed out after \(timeout) waiting for: \(description) (sleepers: \(sleepers))")
      throw TestTimeout(what: description)
    }
  }

  /// Returns once at least `count` tasks sleep on this clock.
  public func waitForSleepers(_ count: Int = 1, timeout: Duration = .seconds(30)) async throws {
    try await waitForSleepers("\(count) tasks to sleep on the test clock", timeout: timeout) { $0.count >= count }
  }
}
