public import CoreMetrics

/// What an outbox relay counts as it publishes (Docs/metrics.md):
/// `sagad_outbox_published_total{service}`, `sagad_outbox_publish_failures_total{service}` and
/// `sagad_outbox_dead_lettered_total{service}`, all at 0 from the start. Recorded through swift-metrics, into the factory given or the
/// process's bootstrapped one.
public final class RelayMetrics: Sendable {
  public static let published = "sagad_outbox_published_total"
  public static let publishFailures = "sagad_outbox_publish_failures_total"
  public static let deadLettered = "sagad_outbox_dead_lettered_total"

  private let sent: Counter
  private let failed: Counter
  private let unsendable: Counter

  public init(service: String, factory: (any MetricsFactory)? = nil) {
    let factory = factory ?? MetricsSystem.factory
    sent = Counter(label: Self.published, dimensions: [("service", service)], factory: factory)
    failed = Counter(label: Self.publishFailures, dimensions: [("service", service)], factory: factory)
    unsendable = Counter(label: Self.deadLettered, dimensions: [("service", service)], factory: factory)
  }

  /// Counts one round's rows: those marked sent, and those whose publication failed.
  func count(sent: Int, failed: Int, deadLettered: Int = 0) {
    if sent > 0 { self.sent.increment(by: Int64(sent)) }
    if failed > 0 { self.failed.increment(by: Int64(failed)) }
    if deadLettered > 0 { unsendable.increment(by: Int64(deadLettered)) }
  }
}
