import Foundation
import SagaCore

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

  /// The value as an integer: a big-endian 4- or 8-byte binary integer (Spring's and
  /// sagad's `kafka_dlt-original-partition`, `-offset`, `-timestamp`), or decimal text
  /// (sagad before it wrote Spring's encoding, kcat). Text is tried first: an old decimal
  /// offset such as `4242` is four bytes too, while a binary value made of ASCII digits
  /// would need a leading byte of 0x30 or more, a partition beyond 800 million.
  public var integer: Int64? {
    guard let value else { return nil }
    if let text, let number = Int64(text.trimmingCharacters(in: .whitespaces)) { return number }
    switch value.count {
    case 4: return Int64(Int32(bitPattern: value.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }))
    case 8: return Int64(bitPattern: value.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    default: return nil
    }
  }

  /// For people: the text; a binary `kafka_dlt-original-*` integer as its number and
  /// encoding, e.g. `3 (4-byte big-endian)`; `<n bytes: hex>` for other values that are
  /// not printable text (Spring's partition 3 is valid UTF-8, but `00 00 00 03` is not
  /// something to print); `<null>` for none.
  public var displayValue: String {
    guard let value else { return "<null>" }
    if let text, !text.unicodeScalars.contains(where: Self.isUnprintable) { return text }
    if Self.integerNames.contains(name), value.count == 4 || value.count == 8, let integer {
      return "\(integer) (\(value.count)-byte big-endian)"
    }
    return "<\(value.count) bytes: \(value.prefix(32).map { String(format: "%02x", $0) }.joined())>"
  }

  /// The headers Spring writes as binary integers.
  private static let integerNames: Set<String> = [
    HeaderName.DeadLetter.originalPartition, HeaderName.DeadLetter.originalOffset,
    HeaderName.DeadLetter.originalTimestamp,
  ]

  /// Control characters other than the whitespace a stack trace or message may hold.
  private static func isUnprintable(_ scalar: Unicode.Scalar) -> Bool {
    (scalar.value < 0x20 && scalar != "\n" && scalar != "\t" && scalar != "\r") || scalar.value == 0x7F
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
