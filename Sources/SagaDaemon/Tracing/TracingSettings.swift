/// `tracing.*` (Docs/tracing.md): where sagad's spans go. Off unless an endpoint is set, here or
/// through OpenTelemetry's own `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`.
struct TracingSettings: Sendable, Equatable {
  /// The OTLP/HTTP receiver's base URL (`http://collector:4318`): spans go to
  /// `<endpoint>/v1/traces`. Nil: tracing off (unless the environment sets one).
  var endpoint: String?
  /// The share of new traces recorded; a trace continued from a caller keeps its decision.
  var sampleRatio = 1.0
  /// `service.name` of every span.
  var serviceName = "sagad"
  /// Finished spans held for export at most; while the collector is slow or away, more are
  /// dropped (`sagad_tracing_spans_dropped_total`), so memory stays bounded.
  var maxQueue = 2048
}
