public import Foundation
public import SagaCore

/// An outbox row not yet marked sent, as the relay reads it.
public struct OutboxRecord: Sendable, Hashable, Identifiable {
  /// Increases with every append and is never reused, even after a purge, so
  /// publishing in id order is publishing in commit order.
  public var id: Int64
  public var message: OutboxMessage
  /// When the row was appended (millisecond precision).
  public var createdAt: Date
  /// How many publish attempts failed so far (see ``Outbox/recordFailedAttempt(ids:in:)``).
  public var attempts: Int

  public var topic: String { message.topic }
  /// The key as text (nil for none, or for a dead letter's key that is not UTF-8).
  public var key: String? { message.key }
  public var payload: [UInt8] { message.payload }
  public var headers: [RecordHeader] { message.headers }

  public init(id: Int64, message: OutboxMessage, createdAt: Date, attempts: Int) {
    self.id = id
    self.message = message
    self.createdAt = createdAt
    self.attempts = attempts
  }
}
