/// Whether trying again can help. The runtime retries only `.transient` failures (with
/// backoff, then the retry schedule); a `.permanent` one is decided at once, so a message
/// that can never succeed neither loops nor stalls its partition (Docs/design.md, "Failure classes").
public enum FailureClass: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
  /// The same input will fail again: invalid events, business rule violations.
  case permanent
  /// The environment failed (database busy, I/O): the same input may succeed later.
  case transient

  public var description: String { rawValue }
}
