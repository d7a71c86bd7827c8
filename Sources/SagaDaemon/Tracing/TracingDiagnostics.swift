import CoreMetrics
import Logging
import Synchronization

/// The log handler of swift-otel's own diagnostics (Docs/tracing.md): counts the spans its
/// exporter gave up on (a full queue, a failed export) in `sagad_tracing_spans_dropped_total`
/// and passes on at most one warning per `warningInterval`, so a collector that is away
/// costs one line a minute, never the saga.
struct TracingDiagnostics: LogHandler {
  static let droppedMetric = "sagad_tracing_spans_dropped_total"
  static let warningInterval: Duration = .seconds(60)

  /// Shared by every copy swift-log makes of the handler.
  final class State: Sendable {
    let dropped: Counter
    let logger: Logger
    let lastWarning = Mutex<ContinuousClock.Instant?>(nil)
    let suppressed = Mutex(0)

    init(factory: any MetricsFactory, logger: Logger) {
      dropped = Counter(label: TracingDiagnostics.droppedMetric, dimensions: [], factory: factory)
      self.logger = logger
    }
  }

  let state: State
  var metadata: Logger.Metadata = [:]
  var logLevel: Logger.Level = .info

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    guard event.level >= .warning else { return }
    let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
    // swift-otel's batch processor: "…dropped… because queue was full" with `dropped_count`,
    // and "Failed to export batch." with `batch_size` (the batch is lost).
    let lost = Self.integer(merged["dropped_count"]) ?? Self.integer(merged["batch_size"]) ?? 0
    if lost > 0 { state.dropped.increment(by: Int64(lost)) }
    let now = ContinuousClock.now
    let due = state.lastWarning.withLock { last in
      guard last.map({ now - $0 >= Self.warningInterval }) ?? true else { return false }
      last = now
      return true
    }
    guard due else {
      state.suppressed.withLock { $0 += 1 }
      return
    }
    let suppressed = state.suppressed.withLock { count in
      defer { count = 0 }
      return count
    }
    state.logger.warning(
      "tracing: \(event.message)",
      metadata: merged.merging(["suppressedSince": "\(suppressed)"]) { old, _ in old })
  }

  private static func integer(_ value: Logger.Metadata.Value?) -> Int? {
    guard case .string(let text)? = value else {
      if case .stringConvertible(let convertible)? = value { return Int("\(convertible)") }
      return nil
    }
    return Int(text)
  }
}
