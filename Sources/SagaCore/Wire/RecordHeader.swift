import Foundation

/// One Kafka record header, the only header type sagad has: SagaKafka reads and writes it
/// (librdkafka's byte headers), the inbound message and envelope carry it, the outbox, the
/// retry schedule and the dead-letter store keep it. A list (not a dictionary) because
/// Kafka allows repeated names and the order is part of what an operator reads in `kcat`.
///
/// Every header sagad reads for itself is UTF-8 text (`value`), kept as a `String` so that
/// the common case costs no conversion. The exact bytes are kept too (`content`), so that a
/// dead letter or a parked retry carries a peer's binary or null header values unchanged.
public struct RecordHeader: Sendable, Hashable, CustomStringConvertible {
  public var name: String
  /// The value byte for byte.
  public var content: RecordBytes

  public init(name: String, value: String) {
    self.name = name
    self.content = .text(value)
  }

  /// A header as Kafka carried it; nil is Kafka's null value.
  public init(name: String, bytes: [UInt8]?) {
    self.init(name: name, content: RecordBytes(bytes))
  }

  public init(name: String, content: RecordBytes) {
    self.name = name
    self.content = content
  }

  /// The value as text: empty for a null value or bytes that are not UTF-8, which no
  /// header sagad interprets can be (their bytes are in `content`).
  public var value: String {
    get { content.text ?? "" }
    set { content = .text(newValue) }
  }

  /// The value as text, or nil for a null value or bytes that are not UTF-8.
  public var text: String? { content.text }

  /// The value's bytes; nil for a null value.
  public var bytes: [UInt8]? { content.bytes }

  /// The value as an integer: a big-endian 4- or 8-byte binary integer (Spring's and
  /// sagad's `kafka_dlt-original-partition`, `-offset`, `-timestamp`), or decimal text
  /// (sagad before it wrote Spring's encoding, kcat). Text is tried first: an old decimal
  /// offset such as `4242` is four bytes too, while a binary value made of ASCII digits
  /// would need a leading byte of 0x30 or more, a partition beyond 800 million.
  public var integer: Int64? {
    guard let bytes else { return nil }
    if let text, let number = Int64(text.trimmingCharacters(in: .whitespaces)) { return number }
    switch bytes.count {
    case 4: return Int64(Int32(bitPattern: bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }))
    case 8: return Int64(bitPattern: bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    default: return nil
    }
  }

  /// For people: the text; a binary `kafka_dlt-original-*` integer as its number and
  /// encoding, e.g. `3 (4-byte big-endian)`; `<n bytes: hex>` for other values that are
  /// not printable text (Spring's partition 3 is valid UTF-8, but `00 00 00 03` is not
  /// something to print); `<null>` for none.
  public var displayValue: String {
    guard let bytes else { return "<null>" }
    if let text, !text.unicodeScalars.contains(where: Self.isUnprintable) { return text }
    if Self.integerNames.contains(name), bytes.count == 4 || bytes.count == 8, let integer {
      return "\(integer) (\(bytes.count)-byte big-endian)"
    }
    return "<\(bytes.count) bytes: \(bytes.prefix(32).map { String(format: "%02x", $0) }.joined())>"
  }

  public var description: String {
    switch content {
    case .text(let text): "\(name)=\(text)"
    case .binary(let bytes): "\(name)=<\(bytes.count) bytes>"
    case .null: "\(name)=<null>"
    }
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
}

extension Array where Element == RecordHeader {
  /// The last header named `name` (Kafka's `lastHeader`, for a repeated name), if any.
  public func last(named name: String) -> RecordHeader? {
    last { $0.name == name }
  }
}
