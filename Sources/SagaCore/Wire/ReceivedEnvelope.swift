public import Foundation

/// The envelope of a consumed message, parsed leniently. Messages from the report's Spring
/// services carry no envelope headers at all, and a malformed header must not cost the
/// message: every field is optional, and a value that does not parse is nil (the body,
/// not the headers, decides whether a message is valid).
public struct ReceivedEnvelope: Sendable, Hashable {
  /// Every header as received, in order.
  public let headers: [RecordHeader]
  public let eventId: UUID?
  /// Nil when absent or not one of the five event names.
  public let eventType: EventType?
  public let eventVersion: EventVersion?
  /// Nil when absent or not a valid version-00 `traceparent`.
  public let trace: TraceContext?
  public let correlationId: String?
  public let producer: String?
  public let occurredAtMilliseconds: Int64?
  /// `sagad-republished`: how many times the sweeper re-announced this event.
  public let republished: Int?
  /// `sagad-replay-of` on a message replayed from the DLT store: the original's `eventId`
  /// (lower-cased), or `offset:<topic>[p]@o` when the original had none.
  public let replayOf: String?

  /// Parses `headers`; when a name repeats, the last value counts (as Kafka's `lastHeader`).
  /// Empty values count as absent.
  public init(headers: [RecordHeader]) {
    self.headers = headers
    // A scan rather than a dictionary: every consumed record comes through here, with
    // a handful of headers, and hashing each name cost more than comparing it.
    var last = [String?](repeating: nil, count: Self.known.count)
    for header in headers where !header.value.isEmpty {
      if let slot = Self.known.firstIndex(of: header.name) { last[slot] = header.value }
    }
    eventId = last[0].flatMap(UUID.init(canonicalText:))
    eventType = last[1].flatMap(EventType.init(rawValue:))
    eventVersion = last[2].flatMap(EventVersion.init)
    trace = last[3].flatMap(TraceContext.init(traceparent:))
    correlationId = last[4]
    producer = last[5]
    occurredAtMilliseconds = last[6].flatMap(RFC3339Timestamp.parse)
    republished = last[7].flatMap { Int($0) }
    replayOf = last[8].map { UUID(canonicalText: $0)?.lowercasedText ?? $0 }
  }

  /// The headers with a field here, in the order of the slots `init` reads.
  private static let known = [
    HeaderName.eventId, HeaderName.eventType, HeaderName.eventVersion, HeaderName.traceparent,
    HeaderName.correlationId, HeaderName.producer, HeaderName.occurredAt, HeaderName.republished,
    HeaderName.replayOf,
  ]

  /// A message with no headers, as the report's services send.
  public static let empty = ReceivedEnvelope(headers: [])

  /// The last value of header `name`, if any (for headers without a field here, such as
  /// `sagad-attempts` or `kafka_dlt-*`).
  public func value(for name: String) -> String? {
    headers.last { $0.name == name && !$0.value.isEmpty }?.value
  }

  /// `occurredAtMilliseconds` as a `Date`.
  public var occurredAt: Date? { occurredAtMilliseconds.map(RFC3339Timestamp.date(milliseconds:)) }

  /// The full envelope when all seven standard headers are present and valid; headers
  /// with other names become its `extraHeaders`. Nil for partial or report-format messages.
  public var envelope: EventEnvelope? {
    guard let eventId, let eventType, let eventVersion, let trace, let correlationId, let producer,
      let occurredAtMilliseconds
    else { return nil }
    let standard = Set(HeaderName.envelope)
    var envelope = EventEnvelope(
      eventType: eventType, trace: trace, correlationId: correlationId, producer: producer, eventId: eventId,
      eventVersion: eventVersion, extraHeaders: headers.filter { !standard.contains($0.name) })
    envelope.occurredAtMilliseconds = occurredAtMilliseconds
    return envelope
  }
}
