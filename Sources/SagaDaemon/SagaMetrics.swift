import Payments
import Points
import Prometheus
import SagaCore
import SagaRuntime
import Synchronization

/// sagad's metrics registry (Docs/metrics.md) and the instruments that are
/// recorded when something happens: outcome counters and latency histograms, fed by the
/// node's `SagaObservers`. Everything that is a state (lag, outbox, dead letters, workers)
/// is read at scrape time by `MetricsCollector` instead.
final class SagaMetrics: Sendable {
  let registry = PrometheusCollectorRegistry()

  static let processingBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
  static let rewardLatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
  private struct EventKey: Hashable {
    var worker: String
    var topic: String
    var result: RecordObservation.Result
  }

  private let compensations: [String: Counter]
  /// Copies of a compensation already decided: kept out of `compensate_payment_total` so
  /// that the report's `rate(compensate_payment_total[5m])` counts compensations, not
  /// deliveries (the report's Points sends up to ten copies of each).
  private let compensationRedeliveries: Counter
  private let rewards: [String: Counter]
  private let payments: [PaymentObservation: Counter]
  private let rewardLatency: ValueHistogram
  private let events = Mutex<[EventKey: Counter]>([:])
  private let processing = Mutex<[String: ValueHistogram]>([:])

  init(version: String) {
    let registry = self.registry
    registry.gauge(
      "sagad_build_info", [("version", version)], help: "sagad's version; always 1"
    ).set(to: 1)
    compensations = Self.counters(
      registry, "compensate_payment_total", ["refunded", "failed"],
      help: "Compensations decided by Payments, by result; each payment once, however often it is requested")
    compensationRedeliveries = registry.counter(
      "sagad_compensation_redeliveries_total",
      help: "compensate-payment messages for a compensation already decided (refunded or parked): nothing applied")
    rewards = Self.counters(
      registry, "sagad_point_rewards_total", ["rewarded", "failed", "duplicate"],
      help: "ReservationCompleted events decided by Points, by result")
    payments = Self.counters(
      registry, "sagad_payments_total", PaymentObservation.allCases, label: \.rawValue,
      help: "pay requests answered by Payments, by result")
    rewardLatency = registry.histogram(
      "sagad_reward_latency_seconds", buckets: Self.rewardLatencyBuckets,
      help: "From a payment's commit (ReservationCompleted occurredAt) to the reward's commit in Points")
  }

  /// One counter `name{result}` per result, so that each series exists from the start.
  private static func counters<Result: Hashable>(
    _ registry: PrometheusCollectorRegistry, _ name: String, _ results: [Result],
    label: (Result) -> String = { "\($0)" }, help: String
  ) -> [Result: Counter] {
    Dictionary(
      uniqueKeysWithValues: results.map { result in
        (result, registry.counter(name, [("result", label(result))], help: help))
      })
  }

  /// Creates the series of `node`'s consume workers at 0, so that they exist before the
  /// first record (an alert's `rate()` needs a series to start from).
  func prepare(for node: SagaNode) {
    for worker in node.workers {
      _ = processingHistogram(worker.name)
      for topic in SagaConsumerGroup(rawValue: worker.groupId)?.topics ?? [] {
        for result in RecordObservation.Result.allCases {
          _ = eventCounter(EventKey(worker: worker.name, topic: topic, result: result))
        }
      }
    }
  }

  /// The observers to hand to `SagaNode`.
  var observers: SagaObservers {
    SagaObservers(
      compensation: { [compensations, compensationRedeliveries] outcome in
        if case .duplicate = outcome {
          compensationRedeliveries.increment()
        } else {
          compensations[outcome.result]?.increment()
        }
      },
      reward: { [rewards] outcome in rewards[outcome.result]?.increment() },
      record: { [self] observation in record(observation) },
      payment: { [payments] result in payments[result]?.increment() },
      rewardLatency: { [rewardLatency] duration in rewardLatency.record(duration.prometheusSeconds) })
  }

  private func record(_ observation: RecordObservation) {
    eventCounter(EventKey(worker: observation.worker, topic: observation.topic, result: observation.result))
      .increment()
    processingHistogram(observation.worker).record(observation.duration.prometheusSeconds)
  }

  private func eventCounter(_ key: EventKey) -> Counter {
    events.withLock { events in
      if let counter = events[key] { return counter }
      let counter = registry.counter(
        "sagad_events_processed_total",
        [("worker", key.worker), ("topic", key.topic), ("result", key.result.rawValue)],
        help: "Handler runs of the consume workers, by worker, topic and result")
      events[key] = counter
      return counter
    }
  }

  private func processingHistogram(_ worker: String) -> ValueHistogram {
    processing.withLock { histograms in
      if let histogram = histograms[worker] { return histogram }
      let histogram = registry.histogram(
        "sagad_event_processing_seconds", [("worker", worker)], buckets: Self.processingBuckets,
        help: "Time of one handler run (inbox claim, handler, retry or dead-letter write), per worker")
      histograms[worker] = histogram
      return histogram
    }
  }
}

extension Duration {
  /// In seconds, as Prometheus wants them.
  var prometheusSeconds: Double {
    let (seconds, attoseconds) = components
    return Double(seconds) + Double(attoseconds) / 1e18
  }
}
