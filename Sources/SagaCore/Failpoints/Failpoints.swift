import Foundation
import Synchronization

/// Named fault injection for tests and drills (Docs/operations-recovery.md, "Failpoints"): code calls `hit(_:)` at each
/// named point, and an operator (`sagactl failpoint set …`) or a test arms a point with an
/// action and a trigger. Off unless `failpoints.enabled` is set; `sagad --dev` sets it.
///
/// Why the disabled path is free: `isEnabled` is a `let` fixed at start, so `hit` is one
/// predictable branch on an immutable Bool and returns before touching the lock, the
/// dictionary or the random source. There is nothing to benchmark: it is the cost of the
/// call and a compare, on paths that already do a database transaction or a Kafka round.
/// When enabled, each hit takes an uncontended Mutex for a dictionary lookup.
public final class Failpoints: Sendable {
  /// A process whose configuration does not enable failpoints: `hit` never fires, `set` refuses.
  public static let disabled = Failpoints(enabled: false)

  public let isEnabled: Bool
  private let armed = Mutex<[FailpointName: Armed]>([:])
  /// Returns a value in [0, 1); injectable so probability triggers are testable.
  private let random: @Sendable () -> Double

  private struct Armed {
    var action: FailpointAction
    var trigger: FailpointTrigger
    var hits = 0
    var fired = 0
    var remaining: Int?
  }

  /// - Parameter random: the probability triggers' source of values in [0, 1).
  public init(enabled: Bool, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
    self.isEnabled = enabled
    self.random = random
  }

  /// For synchronous code, such as inside a database transaction: throws the injected
  /// error, blocks the thread for a delay, or aborts.
  /// - Throws: `injected-transient` or `injected-permanent` when the point fires with an error action.
  @inline(__always)
  public func hit(_ name: FailpointName) throws(SagaError) {
    guard isEnabled else { return }
    guard let action = fire(name) else { return }
    if case .delay(let duration) = action {
      let (seconds, attoseconds) = duration.components
      Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
      return
    }
    try perform(action, name)
  }

  /// For async code (relays, workers): like `hit`, but a delay suspends instead of blocking.
  /// - Throws: `injected-transient` or `injected-permanent` when the point fires with an error action.
  @inline(__always)
  public func hitAsync(_ name: FailpointName) async throws(SagaError) {
    guard isEnabled else { return }
    guard let action = fire(name) else { return }
    if case .delay(let duration) = action {
      try? await Task.sleep(for: duration)
      return
    }
    try perform(action, name)
  }

  /// Arms `name`, replacing whatever it had.
  /// - Throws: `invalid-value` when failpoints are disabled or the trigger is out of range.
  public func set(_ name: FailpointName, _ action: FailpointAction, trigger: FailpointTrigger = .always)
    throws(SagaError)
  {
    guard isEnabled else {
      throw SagaError(.invalidValue, "failpoints are disabled: set failpoints.enabled", failureClass: .permanent)
    }
    _ = try FailpointName(parsing: name.rawValue)
    let trigger = try trigger.validated()
    var remaining: Int?
    if case .count(let n) = trigger { remaining = n }
    let entry = Armed(action: action, trigger: trigger, remaining: remaining)
    armed.withLock { $0[name] = entry }
  }

  public func clear(_ name: FailpointName) {
    _ = armed.withLock { $0.removeValue(forKey: name) }
  }

  public func clearAll() {
    armed.withLock { $0.removeAll() }
  }

  /// The armed points, by name.
  public func list() -> [FailpointState] {
    armed.withLock { points in
      points.map { name, entry in
        FailpointState(
          name: name, action: entry.action, trigger: entry.trigger, hits: entry.hits, fired: entry.fired,
          remaining: entry.remaining)
      }
    }.sorted { $0.name < $1.name }
  }

  /// Counts the hit and decides under the lock; the action runs outside it.
  private func fire(_ name: FailpointName) -> FailpointAction? {
    armed.withLock { points -> FailpointAction? in
      guard var entry = points[name] else { return nil }
      entry.hits += 1
      let fires: Bool
      switch entry.trigger {
      case .always: fires = true
      case .count: fires = true
      case .probability(let p): fires = random() < p
      }
      if fires { entry.fired += 1 }
      if let remaining = entry.remaining, fires {
        if remaining <= 1 {
          points.removeValue(forKey: name)
          return entry.action
        }
        entry.remaining = remaining - 1
      }
      points[name] = entry
      return fires ? entry.action : nil
    }
  }

  private func perform(_ action: FailpointAction, _ name: FailpointName) throws(SagaError) {
    switch action {
    case .errorTransient:
      throw SagaError(.injectedTransient, "failpoint \(name)", failureClass: .transient)
    case .errorPermanent:
      throw SagaError(.injectedPermanent, "failpoint \(name)", failureClass: .permanent)
    case .delay:
      return
    case .crash:
      FileHandle.standardError.write(Data("sagad: failpoint \(name) fired with action crash; aborting\n".utf8))
      abort()
    }
  }
}
