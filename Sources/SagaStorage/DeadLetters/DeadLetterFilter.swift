public import Foundation

/// Which stored dead letters a list or a `replay --all` means. Every field narrows it;
/// an empty filter matches all.
public struct DeadLetterFilter: Sendable, Hashable {
  /// The original topic (`reservation-completed`) or the DLT topic (`reservation-completed.DLT`).
  public var topic: String?
  /// A reason code (`invalid-json`), or text the reason contains (case-insensitive).
  public var reason: String?
  /// Only dead letters first seen at or after this instant.
  public var since: Date?
  public var status: DeadLetterStatus?

  public init(topic: String? = nil, reason: String? = nil, since: Date? = nil, status: DeadLetterStatus? = nil) {
    self.topic = topic
    self.reason = reason
    self.since = since
    self.status = status
  }
}
