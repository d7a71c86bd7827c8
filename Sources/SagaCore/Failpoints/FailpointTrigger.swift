/// When an armed failpoint fires.
public enum FailpointTrigger: Sendable, Hashable, CustomStringConvertible {
  /// On every hit, until cleared.
  case always
  /// On the next N hits; then the point disarms itself.
  case count(Int)
  /// On each hit with this probability (0 < p ≤ 1), until cleared.
  case probability(Double)

  /// Refuses a count below 1 and a probability outside (0, 1].
  public func validated() throws(SagaError) -> FailpointTrigger {
    switch self {
    case .always: return self
    case .count(let n):
      guard n >= 1 else {
        throw SagaError(.invalidValue, "failpoint count must be at least 1, got \(n)", failureClass: .permanent)
      }
    case .probability(let p):
      guard p > 0, p <= 1 else {
        throw SagaError(
          .invalidValue, "failpoint probability must be in (0, 1], got \(p)", failureClass: .permanent)
      }
    }
    return self
  }

  public var description: String {
    switch self {
    case .always: "always"
    case .count(let n): "count \(n)"
    case .probability(let p): "probability \(p)"
    }
  }
}
