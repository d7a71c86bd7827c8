import Foundation

/// One header of a dead letter, byte for byte: Kafka header values are bytes and may be
/// null, and Spring writes some `kafka_dlt-*` values as binary integers, so unlike
/// ``OutboxHeader`` the value is not assumed to be text.
public struct DeadLetterHeader: Sendable, Hashable, Codable {
  public var name: String
  /// Nil for a null header value.
  public var value: [UInt8]?

  public init(name: String, value: [UInt8]?) {
    self.name = name
    self.value = value
  }

  public init(name: String, text: String) {
    self.init(name: name, value: Array(text.utf8))
  }

  /// The value as UTF-8 text, or nil for a null value or bytes that are not UTF-8.
  public var text: String? { value.flatMap { String(validating: $0, as: UTF8.self) } }

  /// The value as an integer: decimal text (sagad, kcat), or a big-endian 4- or 8-byte
  /// binary integer (Spring's `kafka_dlt-original-partition`, `-offset`, `-timestamp`).
  public var integer: Int64? {
    guard let value else { return nil }
    if let text, let number = Int64(text.trimmingCharacters(in: .whitespaces)) { return number }
    switch value.count {
    case 4: return Int64(Int32(bitPattern: value.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }))
    case 8: return Int64(bitPattern: value.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    default: return nil
    }
  }

  /// For people: the text, or `<n bytes: hex>` for binary values, `<null>` for none.
  public var displayValue: String {
    guard let value else { return "<null>" }
    if let text { return text }
    return "<\(value.count) bytes: \(value.prefix(32).map { String(format: "%02x", $0) }.joined())>"
  }

  // The column form (`DeadLetterSchema`): `{"name":…,"text":…}` for UTF-8 values,
  // `{"name":…,"base64":…}` for other bytes, `{"name":…}` for null, so that the column
  // stays readable with `sqlite3` and `json_each` and nothing is lost.
  private enum CodingKeys: String, CodingKey {
    case name
    case text
    case base64
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    name = try container.decode(String.self, forKey: .name)
    if let text = try container.decodeIfPresent(String.self, forKey: .text) {
      value = Array(text.utf8)
    } else if let base64 = try container.decodeIfPresent(String.self, forKey: .base64) {
      guard let data = Data(base64Encoded: base64) else {
        throw DecodingError.dataCorruptedError(forKey: .base64, in: container, debugDescription: "not base64")
      }
      value = [UInt8](data)
    } else {
      value = nil
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(name, forKey: .name)
    if let text {
      try container.encode(text, forKey: .text)
    } else if let value {
      try container.encode(Data(value).base64EncodedString(), forKey: .base64)
    }
  }
}

extension Array where Element == DeadLetterHeader {
  /// The last header named `name` (Kafka's `lastHeader`), if any.
  public func last(named name: String) -> DeadLetterHeader? {
    last { $0.name == name }
  }
}
