public import Foundation
public import SagaCore

/// A record waiting in `retry_schedule` for its next attempt: the message as consumed,
/// how often it ran, and why it last failed.
public struct RetryEntry: Sendable, Hashable, Identifiable {
  /// The row id.
  public var id: Int64
  public var consumerGroup: String
  /// The record as consumed: coordinates, key, value, headers, timestamp.
  public var message: InboundMessage
  /// The record's Kafka timestamp type (`CreateTime`, `LogAppendTime`), when known: the
  /// dead letter repeats it in `kafka_dlt-original-timestamp-type`.
  public var timestampType: String?
  /// Handler runs so far.
  public var attempts: Int
  /// When the first attempt failed.
  public var firstFailedAt: Date
  /// The last attempt's error (always transient: nothing else is parked).
  public var lastError: SagaError
  /// When the next attempt is due.
  public var dueAt: Date

  public init(
    id: Int64, consumerGroup: String, message: InboundMessage, timestampType: String?, attempts: Int,
    firstFailedAt: Date, lastError: SagaError, dueAt: Date
  ) {
    self.id = id
    self.consumerGroup = consumerGroup
    self.message = message
    self.timestampType = timestampType
    self.attempts = attempts
    self.firstFailedAt = firstFailedAt
    self.lastError = lastError
    self.dueAt = dueAt
  }
}
