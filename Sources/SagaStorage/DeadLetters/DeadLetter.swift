public import SagaCore

/// A message a consumer group gives up on, and why: what the consume loop writes to
/// `<topic>.DLT` through the outbox (Docs/retries-and-dead-letters.md, "Dead-lettering").
/// The dead letter is the original key, value and headers, followed by the headers Spring's
/// DeadLetterPublishingRecoverer writes, named and encoded as it does (so Spring DLT tooling
/// reads it), and sagad's own two.
public struct DeadLetter: Sendable, Hashable {
  /// The fully qualified name of the error type, for `kafka_dlt-exception-fqcn`.
  public static let exceptionTypeName = "SagaCore.SagaError"
  /// Longest `kafka_dlt-exception-message` written: an error quoting a huge field must
  /// not make the dead letter itself too large to publish.
  public static let maximumReasonLength = 4_096

  public var message: InboundMessage
  public var consumerGroup: String
  /// `CreateTime` or `LogAppendTime`, when the record said.
  public var timestampType: String?
  public var error: SagaError
  public var failureClass: DeadLetterClass
  /// Handler runs made, the failed ones included.
  public var attempts: Int

  public init(
    message: InboundMessage, consumerGroup: String, timestampType: String?, error: SagaError,
    failureClass: DeadLetterClass, attempts: Int
  ) {
    self.message = message
    self.consumerGroup = consumerGroup
    self.timestampType = timestampType
    self.error = error
    self.failureClass = failureClass
    self.attempts = attempts
  }

  /// `<topic>.DLT`.
  public var topic: String { message.topic + SagaTopic.deadLetterSuffix }

  /// The reason as the dead letter states it: the error's code and message.
  public var reason: String {
    let text = error.description
    guard text.count > Self.maximumReasonLength else { return text }
    return String(text.prefix(Self.maximumReasonLength)) + "… (truncated)"
  }

  /// The headers added to the original ones, in the order they are written, encoded as
  /// Spring's `DeadLetterPublishingRecoverer` encodes them, so that Spring's DLT tooling
  /// reads sagad's dead letters: the partition a 4-byte and the offset and timestamp
  /// 8-byte big-endian integers, everything else UTF-8 text. Spring's
  /// `kafka_dlt-exception-stacktrace` has no Java frames to show here: it is the error's
  /// first line, as a Java stack trace begins. `kafka_dlt-exception-cause-fqcn` is left
  /// out as Spring leaves it out for an exception without a cause: a `SagaError` has none.
  public var deadLetterHeaders: [RecordHeader] {
    typealias DLT = HeaderName.DeadLetter
    var headers = [
      RecordHeader(name: DLT.originalTopic, value: message.topic),
      RecordHeader(name: DLT.originalPartition, bytes: Self.bigEndian(message.partition)),
      RecordHeader(name: DLT.originalOffset, bytes: Self.bigEndian(message.offset)),
    ]
    if let timestamp = message.timestampMilliseconds {
      headers.append(RecordHeader(name: DLT.originalTimestamp, bytes: Self.bigEndian(timestamp)))
    }
    if let timestampType {
      headers.append(RecordHeader(name: DLT.originalTimestampType, value: timestampType))
    }
    let reason = reason
    headers += [
      RecordHeader(name: DLT.originalConsumerGroup, value: consumerGroup),
      RecordHeader(name: DLT.exceptionFqcn, value: Self.exceptionTypeName),
      RecordHeader(name: DLT.exceptionMessage, value: reason),
      RecordHeader(name: DLT.exceptionStacktrace, value: "\(Self.exceptionTypeName): \(reason)"),
      RecordHeader(name: HeaderName.attempts, value: String(attempts)),
      RecordHeader(name: HeaderName.failureClass, value: failureClass.rawValue),
    ]
    return headers
  }

  /// What Java's `ByteBuffer.putInt` / `putLong` write: big-endian two's complement.
  static func bigEndian<Integer: FixedWidthInteger>(_ value: Integer) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
  }

  /// The outbox row: the original key, value (an absent value as empty) and headers byte
  /// for byte, minus any earlier dead-letter headers (a replayed dead letter failing again
  /// carries them), then ``deadLetterHeaders``.
  public var outboxMessage: OutboxMessage {
    let added = deadLetterHeaders
    let replaced = Set(added.map(\.name))
    let original = message.headers.filter {
      !replaced.contains($0.name) && !$0.name.hasPrefix(HeaderName.DeadLetter.prefix)
    }
    return OutboxMessage(
      topic: topic, keyContent: RecordBytes(message.key), payload: message.value ?? [],
      headers: original + added)
  }
}
