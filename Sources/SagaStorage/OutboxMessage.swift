/// A Kafka header as sagad stores it: a name and a UTF-8 value. Order matters
/// (Kafka keeps it, and a repeated name is legal), so headers travel as arrays.
public struct OutboxHeader: Sendable, Hashable, Codable {
  public var name: String
  public var value: String

  public init(name: String, value: String) {
    self.name = name
    self.value = value
  }
}

/// A message to publish, written to the outbox in the same transaction as the
/// business change it announces, so that either both happen or neither does.
public struct OutboxMessage: Sendable, Hashable {
  public var topic: String
  /// The Kafka message key; nil publishes without a key.
  public var key: String?
  public var payload: [UInt8]
  public var headers: [OutboxHeader]

  public init(topic: String, key: String?, payload: [UInt8], headers: [OutboxHeader] = []) {
    self.topic = topic
    self.key = key
    self.payload = payload
    self.headers = headers
  }
}
