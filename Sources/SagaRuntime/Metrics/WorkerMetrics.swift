public import CoreMetrics
import SagaCore
import Synchronization

/// The metrics one consume worker records itself (Docs/metrics.md):
/// `sagad_events_processed_total{worker,topic,result}`,
/// `sagad_event_processing_seconds{worker}`, `sagad_retries_scheduled_total{worker}`,
/// `sagad_consume_batches_total{worker,write}` and `sagad_consume_batch_fallbacks_total{worker}`.
/// Recorded through swift-metrics, into the factory given (tests pass a `TestMetrics`) or the
/// process's bootstrapped one.
public final class WorkerMetrics: Sendable {
  public static let eventsProcessed = "sagad_events_processed_total"
  public static let processingSeconds = "sagad_event_processing_seconds"
  public static let retriesScheduled = "sagad_retries_scheduled_total"
  public static let batchesCommitted = "sagad_consume_batches_total"
  public static let batchFallbacks = "sagad_consume_batch_fallbacks_total"

  /// How a committed batch was written (the `write` label).
  public enum BatchWrite: String, Sendable, CaseIterable {
    /// One statement without a transaction (PostgreSQL, `SagaMessageHandler.writesInOneStatement`).
    case oneStatement = "one_statement"
    /// One transaction, no savepoint per record.
    case transaction
    /// One transaction, a savepoint per record: after a failure, or for a retry in place.
    case isolated
  }

  private struct Key: Hashable {
    var topic: String
    var result: RecordResult
  }

  private let worker: String
  private let factory: any MetricsFactory
  private let processing: Recorder
  private let parked: Counter
  private let batches: [BatchWrite: Counter]
  private let fallbacks: Counter
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
    var batches: [BatchWrite: Counter] = [:]
    for write in BatchWrite.allCases {
      batches[write] = Counter(
        label: Self.batchesCommitted, dimensions: [("worker", worker), ("write", write.rawValue)], factory: self.factory
      )
    }
    self.batches = batches
    fallbacks = Counter(label: Self.batchFallbacks, dimensions: [("worker", worker)], factory: self.factory)
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

  /// Counts a committed batch, by how it was written.
  func countBatch(_ write: BatchWrite) {
    batches[write]?.increment()
  }

  /// Counts a batch's write as one statement that failed, nothing written, and ran again as a
  /// transaction.
  func countBatchFallback() {
    fallbacks.increment()
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
