/// Why an operator's outbox request was refused (`sagactl outbox show|discard`); `code` is
/// stable for the admin protocol and scripts.
public struct OutboxError: Error, Sendable, Hashable, CustomStringConvertible {
  public enum Code: String, Sendable, Hashable {
    /// No outbox row has that id (never written, or purged after it was sent).
    case notFound = "outbox-row-not-found"
    /// The row was sent or closed already; only a pending row can be discarded.
    case notPending = "outbox-row-not-pending"
    /// The relay has handed the row to the producer and awaits its report; ask again.
    case inFlight = "outbox-row-in-flight"
    /// No dead-letter store to keep the discarded row in.
    case noDeadLetterStore = "no-dead-letter-store"
    /// The request itself is wrong (an empty note).
    case invalidRequest = "invalid-request"
  }

  public let code: Code
  public let message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  /// A row in flight is settled within moments; everything else needs someone to act.
  public var isRetriable: Bool { code == .inFlight }

  public var description: String { "\(code.rawValue): \(message)" }
}
