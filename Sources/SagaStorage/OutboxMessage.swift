public import SagaCore

/// A Kafka header as sagad stores it: a name and a value, which is UTF-8 text for every
/// event sagad writes but may be any bytes (or null) on a dead letter, which copies the
/// failed record's headers and adds Spring's binary `kafka_dlt-*` integers. Order matters
/// (Kafka keeps it, and a repeated name is legal), so headers travel as arrays.
public struct OutboxHeader: Sendable, Hashable {
  public var name: String
  /// The value byte for byte.
  public var content: RecordBytes

  public init(name: String, text: String) {
    self.name = name
    self.content = .text(text)
  }

  /// nil is Kafka's null value.
  public init(name: String, value: [UInt8]?) {
    self.init(name: name, content: RecordBytes(value))
  }

  public init(name: String, content: RecordBytes) {
    self.name = name
    self.content = content
  }

  /// A consumed or envelope header, unchanged.
  public init(_ header: EnvelopeHeader) {
    self.init(name: header.name, content: header.content)
  }

  /// The value's bytes; nil for a null value.
  public var value: [UInt8]? { content.bytes }

  /// The value as text, or nil for a null value or bytes that are not UTF-8.
  public var text: String? { content.text }
}

/// A message to publish, written to the outbox in the same transaction as the
/// business change it announces, so that either both happen or neither does.
public struct OutboxMessage: Sendable, Hashable {
  public var topic: String
  /// The Kafka message key byte for byte; `.null` publishes without a key.
  public var keyContent: RecordBytes
  public var payload: [UInt8]
  public var headers: [OutboxHeader]

  /// `key` nil publishes without a key.
  public init(topic: String, key: String?, payload: [UInt8], headers: [OutboxHeader] = []) {
    self.init(topic: topic, keyContent: key.map(RecordBytes.text) ?? .null, payload: payload, headers: headers)
  }

  public init(topic: String, keyContent: RecordBytes, payload: [UInt8], headers: [OutboxHeader] = []) {
    self.topic = topic
    self.keyContent = keyContent
    self.payload = payload
    self.headers = headers
  }

  /// The key as text, or nil for no key and for a key that is not UTF-8 (only a dead
  /// letter can have one: its bytes are in `keyContent`).
  public var key: String? { keyContent.text }
}
