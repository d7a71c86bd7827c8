/// One Kafka record header. Kafka allows repeated keys and null values; both survive.
public struct KafkaHeader: Sendable, Hashable {
  public var key: String
  public var value: [UInt8]?

  public init(key: String, value: [UInt8]?) {
    self.key = key
    self.value = value
  }

  public init(key: String, value: String) {
    self.init(key: key, value: Array(value.utf8))
  }

  /// The value as UTF-8 text, or nil for a null value or invalid UTF-8.
  public var stringValue: String? {
    value.flatMap { String(validating: $0, as: UTF8.self) }
  }
}

extension Array where Element == KafkaHeader {
  /// The last value of `key` (Kafka's convention when a header repeats), as text.
  public func string(_ key: String) -> String? {
    last { $0.key == key }?.stringValue
  }
}
