import CoreMetrics
import Foundation
import Logging
import OTel
import SagaCore
import SagaRuntime
import ServiceLifecycle

/// sagad's span exporter (Docs/tracing.md): swift-otel's OTLP/HTTP backend, configured from
/// `tracing.*` and OpenTelemetry's standard `OTEL_*` variables. Its service batches and
/// exports the finished spans, and on shutdown flushes what is left within `flushTimeout`.
struct TracingBackend {
  /// How long an export, and the flush at shutdown, may take: well inside the shutdown
  /// deadline, so a collector that does not answer never holds sagad up.
  static let flushTimeout: Duration = .seconds(5)

  let tracer: SagaTracer
  let service: any Service

  /// The backend when tracing is on: `tracing.otlp.endpoint` set, or OpenTelemetry's
  /// `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, unless
  /// `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`. Nil when off.
  /// - Parameter diagnostics: counts the spans swift-otel drops, and rate-limits its warnings.
  static func make(
    settings: TracingSettings, environment: [String: String], roles: [String],
    diagnostics: TracingDiagnostics.State
  ) throws -> TracingBackend? {
    if environment["OTEL_SDK_DISABLED"]?.lowercased() == "true" || environment["OTEL_TRACES_EXPORTER"] == "none" {
      return nil
    }
    let fromEnvironment =
      environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ?? environment["OTEL_EXPORTER_OTLP_ENDPOINT"]
    guard settings.endpoint != nil || fromEnvironment != nil else { return nil }

    var configuration = OTel.Configuration.default
    configuration.serviceName = settings.serviceName
    configuration.resourceAttributes = [
      "service.instance.id": "\(ProcessInfo.processInfo.hostName)/\(getpid())",
      "service.version": SagaCore.version,
      "sagad.roles": roles.joined(separator: ","),
    ]
    // Spans only: metrics are Prometheus's, log lines sagad's own.
    configuration.metrics.enabled = false
    configuration.logs.enabled = false
    configuration.traces.sampler = .parentBasedTraceIDRatio(ratio: settings.sampleRatio) ?? .parentBasedAlwaysOn
    configuration.traces.batchSpanProcessor.maxQueueSize = settings.maxQueue
    configuration.traces.batchSpanProcessor.maxExportBatchSize = min(512, settings.maxQueue)
    configuration.traces.batchSpanProcessor.exportTimeout = flushTimeout
    configuration.traces.otlpExporter.protocol = .httpProtobuf
    configuration.traces.otlpExporter.timeout = flushTimeout
    if let endpoint = settings.endpoint { configuration.traces.otlpExporter.endpoint = tracesURL(endpoint) }
    configuration.diagnosticLogger = .custom(
      Logger(label: "sagad.tracing") { _ in TracingDiagnostics(state: diagnostics) })
    configuration.diagnosticLogLevel = .warning
    let backend = try OTel.makeTracingBackend(configuration: configuration)
    return TracingBackend(tracer: SagaTracer(backend.factory), service: backend.service)
  }

  /// `tracing.otlp.endpoint` is a base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` is: spans go to
  /// its `/v1/traces`, unless it names that path already.
  static func tracesURL(_ endpoint: String) -> String {
    if endpoint.hasSuffix("/v1/traces") { return endpoint }
    return endpoint.hasSuffix("/") ? endpoint + "v1/traces" : endpoint + "/v1/traces"
  }
}
