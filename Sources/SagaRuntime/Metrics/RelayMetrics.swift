public import CoreMetrics

/// What an outbox relay counts as it publishes (Docs/metrics.md):
/// `sagad_outbox_published_total{service}`, `sagad_outbox_publish_failures_total{service}` and
/// `sagad_outbox_dead_lettered_total{service}`, all at 0 from the start; whether it publishes
/// (`sagad_outbox_relay_publishing`: several instances on one database elect one per service)
/// and the standbys' commits announced to it (`sagad_outbox_standby_commits_heard_total`).
/// Recorded through swift-metrics, into the factory given or the process's bootstrapped one.
public final class RelayMetrics: Sendable {
  public static let published = "sagad_outbox_published_total"
  public static let publishFailures = "sagad_outbox_publish_failures_total"
  public static let deadLettered = "sagad_outbox_dead_lettered_total"
  public static let publishing = "sagad_outbox_relay_publishing"
  public static let standbyCommitsHeard = "sagad_outbox_standby_commits_heard_total"

  private let sent: Counter
  private let failed: Counter
  private let unsendable: Counter
  private let publishingNow: Gauge
  private let heard: Counter

  public init(service: String, factory: (any MetricsFactory)? = nil) {
    let factory = factory ?? MetricsSystem.factory
    sent = Counter(label: Self.published, dimensions: [("service", service)], factory: factory)
    failed = Counter(label: Self.publishFailures, dimensions: [("service", service)], factory: factory)
    unsendable = Counter(label: Self.deadLettered, dimensions: [("service", service)], factory: factory)
    publishingNow = Gauge(label: Self.publishing, dimensions: [("service", service)], factory: factory)
    heard = Counter(label: Self.standbyCommitsHeard, dimensions: [("service", service)], factory: factory)
    publishingNow.record(0)
  }

  /// The relay started publishing (1: alone, or its lease taken) or stopped (0: a standby, or stopped).
  func publishing(_ now: Bool) { publishingNow.record(now ? 1 : 0) }

  /// A standby's commit was announced to this lease holder.
  func heardStandbyCommit() { heard.increment() }

  /// Counts one round's rows: those marked sent, and those whose publication failed.
  func count(sent: Int, failed: Int, deadLettered: Int = 0) {
    if sent > 0 { self.sent.increment(by: Int64(sent)) }
    if failed > 0 { self.failed.increment(by: Int64(failed)) }
    if deadLettered > 0 { unsendable.increment(by: Int64(deadLettered)) }
  }
}
