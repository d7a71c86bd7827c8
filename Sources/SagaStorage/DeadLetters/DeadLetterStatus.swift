/// Where a stored dead letter stands with the operator.
public enum DeadLetterStatus: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
  /// Stored, nobody acted on it yet: counted in `sagad_dead_letters_pending`.
  case pending
  /// Published again to its original topic at least once (the broker confirmed it).
  case replayed
  /// Set aside by an operator with a note; never replayed by `replay --all`.
  case discarded

  public var description: String { rawValue }
}
