/// A Kafka record key or header value, byte for byte. Kafka's are bytes or null; nearly
/// all that sagad sees are UTF-8 text, which stays a `String` so that the common case
/// costs no conversion, while anything else (Spring's binary `kafka_dlt-*` integers, a
/// peer's binary header, a key that is not UTF-8) keeps its exact bytes.
public enum RecordBytes: Sendable, Hashable {
  /// UTF-8 text.
  case text(String)
  /// Bytes that are not UTF-8 text. Build it with `init(_:)`, which keeps UTF-8 as
  /// `text`, so that equal bytes compare equal.
  case binary([UInt8])
  /// Kafka's null: no key, or a header without a value.
  case null

  /// `bytes` as received: text when they are UTF-8, else binary; nil is `null`.
  public init(_ bytes: [UInt8]?) {
    guard let bytes else {
      self = .null
      return
    }
    if let text = String(validating: bytes, as: UTF8.self) {
      self = .text(text)
    } else {
      self = .binary(bytes)
    }
  }

  /// A value straight from librdkafka's buffer: text when it is UTF-8 (one copy, into the
  /// `String`), else binary.
  public init(_ buffer: UnsafeRawBufferPointer) {
    if let text = String(validating: buffer, as: UTF8.self) {
      self = .text(text)
    } else {
      self = .binary(Array(buffer))
    }
  }

  /// The bytes; nil for `null`.
  public var bytes: [UInt8]? {
    switch self {
    case .text(let text): Array(text.utf8)
    case .binary(let bytes): bytes
    case .null: nil
    }
  }

  /// The value as text, or nil for `null` and for bytes that are not UTF-8.
  public var text: String? {
    if case .text(let text) = self { return text }
    return nil
  }
}
