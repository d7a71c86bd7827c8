import Foundation

/// How a consume worker retries a transiently failing record (Docs/design.md, "Retries"; `retry.*`).
///
/// `attempts` counts every run of the handler. The first `inPlaceAttempts` runs happen in
/// place, a few milliseconds apart, while the record's batch is being applied (a busy
/// database usually clears that fast). If the record still fails and attempts remain, it is
/// parked in the worker's durable `retry_schedule` and the partition moves on; each later
/// attempt runs when its backoff has passed: `initialDelay`, then × `multiplier` per attempt,
/// capped at `maxDelay`, each spread by ± `jitter` so that records that failed together do
/// not all come back in the same instant. After the last attempt the record is dead-lettered
/// as `exhausted`. With the defaults a record runs twice in place, once more after ~1 s, and
/// is then dead-lettered.
public struct RetryPolicy: Sendable, Hashable {
  /// Handler runs in all, the first included (`retry.attempts`, ≥ 1).
  public var attempts: Int
  /// The wait before the first scheduled attempt (`retry.initial_delay`).
  public var initialDelay: Duration
  /// Growth of the wait per further scheduled attempt (`retry.multiplier`, ≥ 1).
  public var multiplier: Double
  /// No scheduled wait is longer (`retry.max_delay`).
  public var maxDelay: Duration
  /// Each scheduled wait is spread uniformly by up to this fraction either way
  /// (`retry.jitter`, 0 ≤ jitter < 1).
  public var jitter: Double
  /// Runs made in place before parking, the first included (`retry.in_place_attempts`,
  /// 1 ≤ inPlaceAttempts ≤ attempts).
  public var inPlaceAttempts: Int
  /// The pause between in-place runs: short on purpose, since the partition waits for it.
  public var inPlaceDelay: Duration

  /// The report's §7.4 numbers: 3 attempts, 1 s, × 2, at most 30 s, ± 20 %, 2 in place.
  public static let standard = RetryPolicy()

  public init(
    attempts: Int = 3, initialDelay: Duration = .seconds(1), multiplier: Double = 2.0,
    maxDelay: Duration = .seconds(30), jitter: Double = 0.2, inPlaceAttempts: Int = 2,
    inPlaceDelay: Duration = .milliseconds(20)
  ) {
    self.attempts = attempts
    self.initialDelay = initialDelay
    self.multiplier = multiplier
    self.maxDelay = maxDelay
    self.jitter = jitter
    self.inPlaceAttempts = inPlaceAttempts
    self.inPlaceDelay = inPlaceDelay
  }

  /// The policy itself, or an `invalid-value` error naming the first setting out of range.
  public func validated() throws(SagaError) -> RetryPolicy {
    func invalid(_ key: String, _ rule: String, _ value: Any) -> SagaError {
      SagaError(.invalidValue, "retry.\(key) must be \(rule), got \(value)", field: key, failureClass: .permanent)
    }
    guard attempts >= 1 else { throw invalid("attempts", "at least 1", attempts) }
    guard inPlaceAttempts >= 1, inPlaceAttempts <= attempts else {
      throw invalid("in_place_attempts", "between 1 and retry.attempts (\(attempts))", inPlaceAttempts)
    }
    guard initialDelay >= .zero else { throw invalid("initial_delay", "zero or more", initialDelay) }
    guard maxDelay >= initialDelay else {
      throw invalid("max_delay", "at least retry.initial_delay (\(initialDelay))", maxDelay)
    }
    guard multiplier.isFinite, multiplier >= 1 else { throw invalid("multiplier", "at least 1", multiplier) }
    guard jitter.isFinite, jitter >= 0, jitter < 1 else { throw invalid("jitter", "in [0, 1)", jitter) }
    guard inPlaceDelay >= .zero else { throw invalid("in_place_delay", "zero or more", inPlaceDelay) }
    return self
  }

  /// Whether a record that has run `attemptsMade` times may run again.
  public func allowsAnotherAttempt(after attemptsMade: Int) -> Bool { attemptsMade < attempts }

  /// Whether attempt `attempt` (1-based) runs in place rather than from the schedule.
  public func isInPlace(_ attempt: Int) -> Bool { attempt <= inPlaceAttempts }

  /// The wait before attempt `attempt` (1-based): none before the first, `inPlaceDelay`
  /// before the other in-place ones, the jittered exponential backoff before scheduled ones.
  /// - Parameter unitRandom: a value in [0, 1] choosing where in the jitter band the wait
  ///   falls (0 the shortest, 0.5 the unjittered value, 1 the longest); tests pass a constant.
  public func delay(beforeAttempt attempt: Int, unitRandom: Double) -> Duration {
    guard attempt > 1 else { return .zero }
    guard !isInPlace(attempt) else { return inPlaceDelay }
    guard initialDelay > .zero else { return .zero }
    // Exponent 0 for the first scheduled attempt. Computed in seconds as a Double, where
    // a large exponent saturates to infinity and the cap below takes over.
    let exponent = Double(attempt - inPlaceAttempts - 1)
    let cap = maxDelay.inSeconds
    let base = min(initialDelay.inSeconds * pow(multiplier, exponent), cap)
    let spread = 1 + jitter * (2 * min(max(unitRandom, 0), 1) - 1)
    // Whole milliseconds: the schedule stores due times in milliseconds anyway.
    return .milliseconds(Int64((min(max(base * spread, 0), cap) * 1000).rounded()))
  }

  /// ``delay(beforeAttempt:unitRandom:)`` with the jitter drawn from `generator`.
  public func delay(beforeAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
    delay(beforeAttempt: attempt, unitRandom: Double.random(in: 0...1, using: &generator))
  }

  /// ``delay(beforeAttempt:unitRandom:)`` with the jitter drawn from the system generator.
  public func delay(beforeAttempt attempt: Int) -> Duration {
    var generator = SystemRandomNumberGenerator()
    return delay(beforeAttempt: attempt, using: &generator)
  }
}

extension Duration {
  /// The duration in (fractional) seconds.
  fileprivate var inSeconds: Double {
    let (seconds, attoseconds) = components
    return Double(seconds) + Double(attoseconds) / 1e18
  }
}
