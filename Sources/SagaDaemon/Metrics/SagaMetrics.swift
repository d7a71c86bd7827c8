import Payments
import Points
import Prometheus
import SagaRuntime

/// sagad's metrics registry (Docs/metrics.md) and the swift-metrics factory over it, which
/// `SagadCommand` bootstraps once. The components record what happens themselves
/// (`WorkerMetrics`, `RelayMetrics`, the supervisor, `PaymentsMetrics`, `RewardMetrics`); this is the one place that knows
/// those families' HELP texts and buckets. States are read at scrape time by `MetricsCollector`.
final class SagaMetrics: Sendable {
  let registry = PrometheusCollectorRegistry()
  let factory: SagaMetricsFactory

  static let processingBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
  static let rewardLatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

  /// The families recorded through swift-metrics.
  static let families: [String: SagaMetricsFactory.Family] = [
    WorkerMetrics.eventsProcessed: .init(help: "Handler runs of the consume workers, by worker, topic and result"),
    WorkerMetrics.processingSeconds: .init(
      help: "Time of one handler run (inbox claim, handler, retry or dead-letter write), per worker",
      buckets: processingBuckets),
    WorkerMetrics.retriesScheduled: .init(help: "Records parked in retry_schedule for a later attempt"),
    WorkerMetrics.batchesCommitted: .init(
      help: "Consume batches committed, by worker and how they were written (one_statement, transaction, isolated)"),
    WorkerMetrics.batchFallbacks: .init(
      help: "Consume batches whose write as one statement failed, nothing written, and ran again as a transaction"),
    RelayMetrics.published: .init(help: "Outbox rows published to Kafka"),
    RelayMetrics.publishFailures: .init(help: "Failed attempts to publish outbox rows"),
    RelayMetrics.deadLettered: .init(
      help: "Outbox rows the producer refused for what they are (too large), kept in the dead-letter store and closed"),
    RelayMetrics.publishing: .init(
      help: "1 while this instance's relay publishes the outbox (alone, or holding the lease); 0: a standby"),
    RelayMetrics.standbyCommitsHeard: .init(
      help: "Outbox commits of other instances announced to this one while it held the relay lease (PostgreSQL)"),
    Supervisor.restartsMetric: .init(help: "Restarts of a supervised task (automatic and operator)"),
    TracingDiagnostics.droppedMetric: .init(
      help: "Finished spans the exporter gave up on (queue full, export failed); sagas are never affected"),
    PaymentsMetrics.compensations: .init(
      help: "Compensations decided by Payments, by result; each payment once, however often it is requested"),
    PaymentsMetrics.compensationRedeliveries: .init(
      help: "compensate-payment messages for a compensation already decided (refunded or parked): nothing applied"),
    PaymentsMetrics.payments: .init(help: "pay requests answered by Payments, by result"),
    PaymentsMetrics.payGroups: .init(
      help: "pay groups committed, by how they were written: one statement without locks (PostgreSQL) or a transaction"),
    PaymentsMetrics.payGroupFallbacks: .init(
      help: "pay groups whose write of one statement failed (a wallet or key changed since their reads) and ran"
        + " as a transaction"),
    PaymentsMetrics.payGroupWindowWaits: .init(
      help: "waits of the pay writer for payments.group_commit_window before taking the next group"),
    RewardMetrics.rewards: .init(help: "ReservationCompleted events decided by Points, by result"),
    RewardMetrics.latency: .init(
      help: "From a payment's commit (ReservationCompleted occurredAt) to the reward's commit in Points",
      buckets: rewardLatencyBuckets),
  ]

  init(version: String) {
    factory = SagaMetricsFactory(registry: registry, families: Self.families)
    registry.gauge("sagad_build_info", [("version", version)], help: "sagad's version; always 1").set(to: 1)
  }
}
