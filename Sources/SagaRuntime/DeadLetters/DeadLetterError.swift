/// Why a dead-letter operation was refused or failed; `code` is stable for the admin
/// protocol and scripts.
public struct DeadLetterError: Error, Sendable, Hashable, CustomStringConvertible {
  public enum Code: String, Sendable, Hashable {
    /// No dead letter has that id.
    case notFound = "dead-letter-not-found"
    /// The dead letter was discarded; it is not replayed.
    case discarded = "dead-letter-discarded"
    /// The request itself is wrong (an empty discard note, a replay rate of zero, …).
    case invalidRequest = "invalid-request"
    /// No producer to replay with (a store opened without Kafka).
    case replayUnavailable = "replay-unavailable"
    /// The broker did not confirm a replayed message; the ones before it were replayed.
    case replayNotPersisted = "replay-not-persisted"
  }

  public let code: Code
  public let message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  /// Whether the same request may succeed later without anyone changing anything.
  public var isRetriable: Bool { code == .replayUnavailable || code == .replayNotPersisted }

  public var description: String { "\(code.rawValue): \(message)" }
}
