public import SagaCore

/// A message to publish, written to the outbox in the same transaction as the
/// business change it announces, so that either both happen or neither does.
public struct OutboxMessage: Sendable, Hashable {
  public var topic: String
  /// The Kafka message key byte for byte; `.null` publishes without a key.
  public var keyContent: RecordBytes
  public var payload: [UInt8]
  /// Every header, in the order they are published (`Outbox` keeps an envelope's seven in
  /// columns of their own and the rest as a list).
  public var headers: [RecordHeader]

  /// `key` nil publishes without a key.
  public init(topic: String, key: String?, payload: [UInt8], headers: [RecordHeader] = []) {
    self.init(topic: topic, keyContent: key.map(RecordBytes.text) ?? .null, payload: payload, headers: headers)
  }

  public init(topic: String, keyContent: RecordBytes, payload: [UInt8], headers: [RecordHeader] = []) {
    self.topic = topic
    self.keyContent = keyContent
    self.payload = payload
    self.headers = headers
  }

  /// The key as text, or nil for no key and for a key that is not UTF-8 (only a dead
  /// letter can have one: its bytes are in `keyContent`).
  public var key: String? { keyContent.text }
}
