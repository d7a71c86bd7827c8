/// A consumed Kafka record as the services see it: no librdkafka type, so domain code
/// can be handed messages (and tested) without a broker.
public struct InboundMessage: Sendable, Hashable {
  public var topic: String
  public var partition: Int32
  public var offset: Int64
  public var key: [UInt8]?
  public var value: [UInt8]?
  public var headers: [RecordHeader] {
    didSet { envelope = ReceivedEnvelope(headers: headers) }
  }
  /// The envelope headers it carries (all optional: the report's services send none),
  /// parsed once here: the inbox key, the handler's context and the saga timeline all
  /// read it, and parsing it for each of them showed in profiles.
  public private(set) var envelope: ReceivedEnvelope
  /// Milliseconds since the Unix epoch, if the record carries a timestamp.
  public var timestampMilliseconds: Int64?

  public init(
    topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader],
    timestampMilliseconds: Int64? = nil
  ) {
    self.topic = topic
    self.partition = partition
    self.offset = offset
    self.key = key
    self.value = value
    self.headers = headers
    self.envelope = ReceivedEnvelope(headers: headers)
    self.timestampMilliseconds = timestampMilliseconds
  }

  /// Where the record sits, e.g. `reservation-completed[2]@17`, for logs and records.
  public var coordinates: String { "\(topic)[\(partition)]@\(offset)" }

  /// The inbox key: the sender's `eventId` when present; else the `sagad-replay-of` of a
  /// message replayed from the DLT store (which names the original by its coordinates, so
  /// replaying a headerless message twice is still one effect); else the record's
  /// coordinates, so a headerless record redelivered from the same offset is recognised.
  ///
  /// A stuck-saga re-announcement keeps the original `eventId` (so that other peers' inboxes
  /// drop it) and carries `sagad-republished: N`: sagad keys it by both, so that its handler
  /// still sees the copy and answers it with the recorded outcome, once per re-announcement.
  public var deduplicationKey: String {
    guard let eventId = envelope.eventId else { return envelope.replayOf ?? "offset:\(coordinates)" }
    guard let republished = envelope.republished else { return eventId.lowercasedText }
    return "\(eventId.lowercasedText)/republished-\(republished)"
  }
}
