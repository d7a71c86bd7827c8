public import Foundation

/// The headers every message sagad produces carries (Docs/event-catalog.md): identity for the
/// inbox (`eventId`), type and version for routing without parsing the body, trace and
/// correlation ids for following one saga across services, the producer and the time.
/// The body stays the report's plain JSON, so Spring consumers that ignore headers still work.
public struct EventEnvelope: Sendable, Hashable {
  public var eventId: UUID
  public var eventType: EventType
  public var eventVersion: EventVersion
  /// This hop's trace context (a child span of the message that caused it).
  public var trace: TraceContext
  /// The saga's correlation id; the trace id unless a caller gave another.
  public var correlationId: String
  /// `sagad/payments` or `sagad/points`.
  public var producer: String
  /// When the event happened, in milliseconds since the epoch (the header's precision, so
  /// that rendering and parsing round-trip exactly).
  public var occurredAtMilliseconds: Int64
  /// Headers after the standard seven, e.g. `sagad-republished`, in the order given.
  public var extraHeaders: [RecordHeader]

  /// - Parameters:
  ///   - correlationId: defaults to `trace.traceId`.
  ///   - producer: defaults to the producer name of the service that owns `eventType`.
  ///   - occurredAt: rounded down to the millisecond.
  public init(
    eventType: EventType, trace: TraceContext, correlationId: String? = nil, producer: String? = nil,
    eventId: UUID = TimeOrderedUUID.next(), eventVersion: EventVersion = .current, occurredAt: Date = Date(),
    extraHeaders: [RecordHeader] = []
  ) {
    self.eventId = eventId
    self.eventType = eventType
    self.eventVersion = eventVersion
    self.trace = trace
    self.correlationId = correlationId ?? trace.traceId
    self.producer = producer ?? eventType.producer.producerName
    self.occurredAtMilliseconds = RFC3339Timestamp.milliseconds(of: occurredAt)
    self.extraHeaders = extraHeaders
  }

  /// The envelope for an event caused by a received message: same trace (a child span)
  /// and correlation id. A message without them (the report's services send no headers)
  /// starts a new trace, whose id then becomes the correlation id.
  public init(
    following received: ReceivedEnvelope, eventType: EventType, producer: String? = nil,
    eventId: UUID = TimeOrderedUUID.next(),
    occurredAt: Date = Date()
  ) {
    let trace = received.trace?.child() ?? .start()
    self.init(
      eventType: eventType, trace: trace, correlationId: received.correlationId, producer: producer,
      eventId: eventId, occurredAt: occurredAt)
  }

  /// `occurredAtMilliseconds` as a `Date`.
  public var occurredAt: Date { RFC3339Timestamp.date(milliseconds: occurredAtMilliseconds) }

  /// The headers to send: the seven of `HeaderName.envelope` in that order, then
  /// `extraHeaders`. The event id is written in lowercase, as Java's `UUID.toString()` does.
  public var headers: [RecordHeader] {
    [
      RecordHeader(name: HeaderName.eventId, value: eventId.lowercasedText),
      RecordHeader(name: HeaderName.eventType, value: eventType.rawValue),
      RecordHeader(name: HeaderName.eventVersion, value: eventVersion.description),
      RecordHeader(name: HeaderName.traceparent, value: trace.traceparent),
      RecordHeader(name: HeaderName.correlationId, value: correlationId),
      RecordHeader(name: HeaderName.producer, value: producer),
      RecordHeader(name: HeaderName.occurredAt, value: RFC3339Timestamp.format(milliseconds: occurredAtMilliseconds)),
    ] + extraHeaders
  }
}
