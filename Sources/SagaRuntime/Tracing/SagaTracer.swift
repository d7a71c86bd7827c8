public import SagaCore
public import Tracing

/// sagad's spans (Docs/tracing.md): a swift-distributed-tracing `Tracer` (swift-otel's in
/// sagad, an in-memory one in tests) and the conventions sagad's spans follow. Components
/// hold an optional one; nil, the default, is tracing off and costs nothing per saga.
///
/// A span's context travels as the message's W3C `traceparent`: the next hop's span is its
/// child. So the trace tree of a saga is `pay` → `send reservation-completed` → `process
/// reservation-completed` → `send point-reward-completed` → …, across processes.
public struct SagaTracer: Sendable {
  public let tracer: any Tracer

  public init(_ tracer: any Tracer) {
    self.tracer = tracer
  }

  /// A context whose parent is the span `traceparent` names; top level when there is none or
  /// it does not parse.
  public func context(traceparent: String?) -> InstrumentationContext {
    var context = InstrumentationContext.topLevel
    guard let traceparent else { return context }
    tracer.extract([HeaderName.traceparent: traceparent], into: &context, using: HeaderCarrier())
    return context
  }

  /// What the next hop carries for `span`: its trace id and span id. Nil for a span the
  /// sampler dropped, which has no context to pass on.
  public func trace(of span: any Span) -> TraceContext? {
    var carrier: [String: String] = [:]
    tracer.inject(span.context, into: &carrier, using: HeaderCarrier())
    return carrier[HeaderName.traceparent].flatMap(TraceContext.init(traceparent:))
  }

  public func startSpan(_ name: String, parent: InstrumentationContext, kind: SpanKind) -> any Span {
    tracer.startSpan(name, context: parent, ofKind: kind)
  }

  /// The consumer span of one handler run of `message` by `group` (OpenTelemetry's messaging
  /// conventions), child of the span that sent it.
  public func processSpan(_ message: InboundMessage, group: String, service: SagaService, attempt: Int) -> any Span {
    let span = startSpan(
      "process \(message.topic)", parent: context(traceparent: message.envelope.trace?.traceparent), kind: .consumer)
    span.updateAttributes { attributes in
      attributes["messaging.system"] = "kafka"
      attributes["messaging.operation.type"] = "process"
      attributes["messaging.operation.name"] = "process"
      attributes["messaging.destination.name"] = message.topic
      attributes["messaging.destination.partition.id"] = "\(message.partition)"
      attributes["messaging.kafka.offset"] = message.offset
      attributes["messaging.consumer.group.name"] = group
      if let key = message.key.flatMap({ String(validating: $0, as: UTF8.self) }) {
        attributes["messaging.kafka.message.key"] = key
      }
      if let eventId = message.envelope.eventId { attributes["messaging.message.id"] = eventId.lowercasedText }
      attributes["sagad.service"] = service.rawValue
      attributes["sagad.attempt"] = attempt
    }
    return span
  }

  /// The producer span of publishing one outbox row, child of the span that wrote it.
  public func sendSpan(topic: String, key: String?, eventId: String?, traceparent: String?, service: String)
    -> any Span
  {
    let span = startSpan("send \(topic)", parent: context(traceparent: traceparent), kind: .producer)
    span.updateAttributes { attributes in
      attributes["messaging.system"] = "kafka"
      attributes["messaging.operation.type"] = "send"
      attributes["messaging.operation.name"] = "send"
      attributes["messaging.destination.name"] = topic
      if let key { attributes["messaging.kafka.message.key"] = key }
      if let eventId { attributes["messaging.message.id"] = eventId }
      attributes["sagad.service"] = service
    }
    return span
  }
}

/// `traceparent` in and out of a header dictionary, for the tracer's propagator.
private struct HeaderCarrier: Injector, Extractor {
  func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
    carrier[key] = value
  }

  func extract(key: String, from carrier: [String: String]) -> String? {
    carrier[key]
  }
}
