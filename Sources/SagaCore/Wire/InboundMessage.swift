import Synchronization

/// A consumed Kafka record as the services see it: no librdkafka type, so domain code
/// can be handed messages (and tested) without a broker.
public struct InboundMessage: Sendable, Hashable {
  public var topic: String
  public var partition: Int32
  public var offset: Int64
  public var key: [UInt8]?
  public var value: [UInt8]? {
    didSet { decoded = DecodedEvent() }
  }
  public var headers: [RecordHeader] {
    didSet { envelope = ReceivedEnvelope(headers: headers) }
  }
  /// The envelope headers it carries (all optional: the report's services send none),
  /// parsed once here: the inbox key, the handler's context and the saga timeline all
  /// read it, and parsing it for each of them showed in profiles.
  public private(set) var envelope: ReceivedEnvelope
  /// Milliseconds since the Unix epoch, if the record carries a timestamp.
  public var timestampMilliseconds: Int64?
  /// The body as the last event type ``event(_:)`` decoded it; shared by the copies of this
  /// record a batch hands around, dropped when `value` changes.
  private var decoded = DecodedEvent()

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

  /// The body decoded as `type` (`EventCodec.decode`), decoded once for all who ask: on
  /// PostgreSQL a batch's handler reads each body for its locks, for its batch read and to
  /// handle it, and decoding was a tenth of sagad's CPU there.
  /// - Throws: the codec's permanent `SagaError` for a body that is not a valid `type`.
  public func event<E: SagaEvent>(_ type: E.Type) throws(SagaError) -> E {
    if let event = decoded.value as? E { return event }
    let event = try EventCodec.decode(type, from: value ?? [])
    decoded.value = event
    return event
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

/// A decoded body kept beside the record (``InboundMessage/event(_:)``). A cache, not part of
/// what the record is: every two are equal, and it hashes to nothing.
private final class DecodedEvent: Sendable, Hashable {
  private let stored = Mutex<(any Sendable)?>(nil)

  var value: (any Sendable)? {
    get { stored.withLock { $0 } }
    set { stored.withLock { $0 = newValue } }
  }

  static func == (lhs: DecodedEvent, rhs: DecodedEvent) -> Bool { true }

  func hash(into hasher: inout Hasher) {}
}
