import Foundation
import Logging
import Prometheus
import SagaCore
import SagaKafka
import SagaRuntime
import SagaStorage
import Synchronization

/// Reads the node's state at scrape time into the registry's gauges, set on the registry
/// directly (states, not events: the counters are recorded where things happen, through
/// swift-metrics): consumer lag and never-committed partitions (the sampler's last sample),
/// outbox and dead-letter backlogs, parked compensations, stuck sagas, the supervisor's
/// tasks, process figures.
/// Every database figure is one indexed query, so a scrape stays cheap on big tables.
final class MetricsCollector: Sendable {
  private let node: SagaNode
  private let sampler: ConsumerLagSampler?
  private let metrics: SagaMetrics
  private let logger: Logger
  private var registry: PrometheusCollectorRegistry { metrics.registry }
  private let lag = Mutex<[ConsumerLagSampler.Key: Gauge]>([:])
  private let uncommitted = Mutex<[ConsumerLagSampler.GroupTopic: Gauge]>([:])
  private let process = ProcessMetrics()

  init(node: SagaNode, metrics: SagaMetrics, sampler: ConsumerLagSampler?, logger: Logger) {
    self.node = node
    self.sampler = sampler
    self.metrics = metrics
    self.logger = logger
  }

  /// What `/readyz` answers: ready when every supervised task runs (or an operator paused it).
  var readiness: MetricsServer.Readiness {
    let snapshots = node.supervisor.snapshots()
    let notRunning = snapshots.filter { $0.state != .running && $0.state != .paused }
    guard !snapshots.isEmpty else { return .init(ready: false, detail: "not ready: no task started yet") }
    guard notRunning.isEmpty else {
      let tasks = notRunning.map { "\($0.name) \($0.state)" }.joined(separator: ", ")
      return .init(ready: false, detail: "not ready: \(tasks)")
    }
    return .init(ready: true, detail: "ready: \(snapshots.count) tasks running")
  }

  /// Brings every scrape-time series up to date and renders the registry.
  func scrape() async -> [UInt8] {
    collectLag()
    await collectStorage()
    collectTasks()
    process.collect(into: registry)
    return registry.emitToBuffer()
  }

  // MARK: Kafka

  private func collectLag() {
    guard let sampler else { return }
    let current = sampler.current
    lag.withLock { gauges in
      // A partition no source reported for a while (broker unreachable, topic gone) leaves the scrape.
      for (key, gauge) in gauges where current.lags[key] == nil {
        registry.unregisterGauge(gauge)
        gauges[key] = nil
      }
      for (key, value) in current.lags {
        let gauge =
          gauges[key]
          ?? registry.gauge(
            "kafka_consumer_lag",
            [("group", key.group), ("topic", key.topic), ("partition", String(key.partition))],
            help:
              "Messages a consumer group is behind on a partition: high watermark - committed offset, "
              + "from the log start when the group never committed")
        gauges[key] = gauge
        gauge.set(to: Double(value))
      }
    }
    uncommitted.withLock { gauges in
      for (key, gauge) in gauges where current.uncommitted[key] == nil {
        registry.unregisterGauge(gauge)
        gauges[key] = nil
      }
      for (key, count) in current.uncommitted {
        let gauge =
          gauges[key]
          ?? registry.gauge(
            "sagad_consumer_group_uncommitted_partitions", [("group", key.group), ("topic", key.topic)],
            help: "Partitions of a topic on which the consumer group has never committed an offset (broker's view)")
        gauges[key] = gauge
        gauge.set(to: Double(count))
      }
    }
  }

  // MARK: Databases

  private func collectStorage() async {
    var databases: [(service: String, database: SagaDatabase)] = []
    if let payments = node.payments { databases.append(("payments", payments.database.storage)) }
    if let points = node.points { databases.append(("points", points.database.storage)) }
    for (service, database) in databases {
      do {
        let (pending, oldest) = try await database.read { db in
          (try Outbox.pendingCount(in: db), try Outbox.oldestPendingCreatedAt(in: db))
        }
        gauge("sagad_outbox_pending", [("service", service)], "Outbox rows not yet published to Kafka")
          .set(to: Double(pending))
        gauge(
          "sagad_outbox_oldest_age_seconds", [("service", service)],
          "Age of the oldest unpublished outbox row; 0 when none waits"
        ).set(to: oldest.map { max(0, Date().timeIntervalSince($0)) } ?? 0)
      } catch {
        logger.debug("metrics: outbox figures unavailable", metadata: ["service": "\(service)", "error": "\(error)"])
      }
    }
    if let payments = node.payments {
      do {
        let parked = try await payments.openCompensationCount()
        let stuck = try await payments.stuckSagaCount()
        gauge("sagad_compensations_parked", [], "Compensations parked for an operator (COMPENSATION_FAILED)")
          .set(to: Double(parked))
        gauge("sagad_stuck_sagas", [], "Sagas the sweeper gave up re-announcing and reported stuck")
          .set(to: Double(stuck))
      } catch {
        logger.debug("metrics: payments figures unavailable", metadata: ["error": "\(error)"])
      }
    }
    do {
      let pending = try await node.deadLetters.pendingCounts()
      // The saga's topics always have a series, at 0 when nothing waits.
      let topics = Set(SagaTopic.allCases.map(\.rawValue)).union(pending.keys)
      for topic in topics {
        gauge(
          "sagad_dead_letters_pending", [("topic", topic)],
          "Dead letters stored and waiting for an operator (replay or discard), by original topic"
        ).set(to: Double(pending[topic] ?? 0))
      }
    } catch {
      logger.debug("metrics: dead-letter figures unavailable", metadata: ["error": "\(error)"])
    }
  }

  // MARK: Tasks

  private func collectTasks() {
    for snapshot in node.supervisor.snapshots() {
      let labels = [("worker", snapshot.name), ("kind", snapshot.kind.rawValue)]
      let up = snapshot.state == .running || snapshot.state == .paused
      gauge("sagad_worker_up", labels, "1 while a supervised task runs (paused included), else 0")
        .set(to: up ? 1 : 0)
      for state in SupervisedTaskState.allCases {
        gauge(
          "sagad_worker_state", labels + [("state", state.rawValue)],
          "1 for the state a supervised task is in (starting, running, backoff, failed, paused, stopped)"
        ).set(to: snapshot.state == state ? 1 : 0)
      }
    }
    for worker in node.workers {
      let statistics = worker.statistics
      let labels = [("worker", worker.name)]
      gauge("sagad_retry_schedule_depth", labels, "Records of a worker's group waiting in retry_schedule")
        .set(to: Double(statistics.retryScheduleDepth))
    }
    gauge("sagad_ready", [], "1 when /readyz answers 200 (every supervised task running or paused)")
      .set(to: readiness.ready ? 1 : 0)
  }

  // MARK: Helpers

  private func gauge(_ name: String, _ labels: [(String, String)], _ help: String) -> Gauge {
    registry.gauge(name, labels, help: help)
  }
}
