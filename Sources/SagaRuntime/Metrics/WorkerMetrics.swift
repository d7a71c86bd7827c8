public import CoreMetrics
import SagaCore
import Synchronization

/// The metrics one consume worker records itself (Docs/metrics.md):
/// `sagad_events_processed_total{worker,topic,result}`,
/// `sagad_event_processing_seconds{worker}` and `sagad_retries_scheduled_total{worker}`. Recorded through swift-metrics, into the factory
/// given (tests pass a `TestMetrics`) or the process's bootstrapped one.
public final class WorkerMetrics: Sendable {
  public static let eventsProcessed = "sagad_events_processed_total"
  public static let processingSeconds = "sagad_event_processing_seconds"
  public static let retriesScheduled = "sagad_retries_scheduled_total"

  private struct Key: Hashable {
    var topic: String
    var result: RecordResult
  }

  private let worker: String
  private let factory: any MetricsFactory
  private let processing: Recorder
  private let parked: Counter
  /// One counter per topic and result, made on first use: the topics are the group's.
  private let counters = Mutex<[Key: Counter]>([:])

  /// - Parameter topics: the worker's topics, whose series exist at 0 from the start (an
  ///   alert's `rate()` needs a series to start from).
  public init(worker: String, topics: [String], factory: (any MetricsFactory)? = nil) {
    self.worker = worker
    self.factory = factory ?? MetricsSystem.factory
    processing = Recorder(
      label: Self.processingSeconds, dimensions: [("worker", worker)], aggregate: true, factory: self.factory)
    parked = Counter(label: Self.retriesScheduled, dimensions: [("worker", worker)], factory: self.factory)
    for topic in topics {
      for result in RecordResult.allCases { _ = counter(topic, result) }
    }
  }

  /// Counts one run of a record of `topic` that ended as `result` and took `duration`.
  func record(topic: String, result: RecordResult, duration: Duration) {
    counter(topic, result).increment()
    processing.record(duration.metricSeconds)
  }

  /// Counts records parked (or parked again) in `retry_schedule` by a committed batch.
  func countRetriesScheduled(_ count: Int) {
    if count > 0 { parked.increment(by: Int64(count)) }
  }

  private func counter(_ topic: String, _ result: RecordResult) -> Counter {
    counters.withLock { counters in
      let key = Key(topic: topic, result: result)
      if let counter = counters[key] { return counter }
      let counter = Counter(
        label: Self.eventsProcessed, dimensions: [("worker", worker), ("topic", topic), ("result", result.rawValue)],
        factory: factory)
      counters[key] = counter
      return counter
    }
  }
}
