public import Foundation

/// A consumed message that can never be processed (unparseable, invalid, an
/// unsupported major version), kept with the reason so an operator can inspect it.
public struct FailedMessage: Sendable, Hashable {
  public var consumerGroup: String
  public var topic: String
  public var partition: Int32
  public var offset: Int64
  public var key: String?
  /// The message value as received; an absent value is stored as empty.
  public var payload: [UInt8]
  public var headers: [OutboxHeader]
  /// A short, stable, machine-readable reason, e.g. `unsupported-version`.
  public var reasonCode: String
  /// A human-readable explanation.
  public var reason: String
  public var failedAt: Date

  public init(
    consumerGroup: String, topic: String, partition: Int32, offset: Int64, key: String?, payload: [UInt8],
    headers: [OutboxHeader], reasonCode: String, reason: String, failedAt: Date = Date()
  ) {
    self.consumerGroup = consumerGroup
    self.topic = topic
    self.partition = partition
    self.offset = offset
    self.key = key
    self.payload = payload
    self.headers = headers
    self.reasonCode = reasonCode
    self.reason = reason
    self.failedAt = failedAt
  }
}

/// A ``FailedMessage`` as stored, with its row id.
public struct FailedMessageRecord: Sendable, Hashable, Identifiable {
  public var id: Int64
  public var message: FailedMessage

  public init(id: Int64, message: FailedMessage) {
    self.id = id
    self.message = message
  }
}
