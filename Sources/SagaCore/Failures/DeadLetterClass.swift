/// Why a message was dead-lettered, as the `sagad-failure-class` header says it
/// (Docs/retries-and-dead-letters.md).
public enum DeadLetterClass: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
  /// The failure can never succeed (invalid event, business rule): no retry was made.
  case permanent
  /// The failure was transient, but every attempt of the retry policy failed.
  case exhausted

  public var description: String { rawValue }
}
