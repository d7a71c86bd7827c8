public import Foundation

/// An outbox row in any state, as operators see it (`sagactl outbox list|show`): waiting to
/// be sent, sent, or closed without being sent (Docs/retries-and-dead-letters.md,
/// "Records that cannot be sent").
public struct OutboxEntry: Sendable, Hashable, Identifiable {
  public var record: OutboxRecord
  public var sentAt: Date?
  /// Why the row was closed without being published; nil while pending or once sent.
  public var closedReason: String?
  /// The error of the latest failed attempt, if any.
  public var lastError: String?

  public var id: Int64 { record.id }

  public enum State: String, Sendable {
    case pending
    case sent
    case closed
  }

  public var state: State {
    if closedReason != nil { return .closed }
    return sentAt == nil ? .pending : .sent
  }

  public init(record: OutboxRecord, sentAt: Date?, closedReason: String?, lastError: String?) {
    self.record = record
    self.sentAt = sentAt
    self.closedReason = closedReason
    self.lastError = lastError
  }
}
