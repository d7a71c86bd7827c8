/// One Kafka message header as SagaCore sees it: a name and a value. SagaKafka converts to
/// and from librdkafka's byte headers; a list (not a dictionary) because Kafka allows
/// repeated names and the order is part of what an operator reads in `kcat`.
///
/// Every header sagad reads for itself is UTF-8 text (`value`). The exact bytes are kept
/// too (`content`), so that a dead letter or a parked retry carries a peer's binary or
/// null header values unchanged.
public struct EnvelopeHeader: Sendable, Hashable, CustomStringConvertible {
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

  /// The value's bytes; nil for a null value.
  public var bytes: [UInt8]? { content.bytes }

  public var description: String {
    switch content {
    case .text(let text): "\(name)=\(text)"
    case .binary(let bytes): "\(name)=<\(bytes.count) bytes>"
    case .null: "\(name)=<null>"
    }
  }
}
