/// One handler run of a consume worker, as reported to `WorkerHooks.recordProcessed` (for
/// `sagad_events_processed_total` and `sagad_event_processing_seconds`). Reported inside the
/// worker's write transaction: a batch that later rolls back is run and reported again, an
/// over-count that counters and latency histograms can live with.
public struct RecordObservation: Sendable, Hashable {
  /// What became of the run; bounded, used as a label value.
  public enum Result: String, Sendable, Hashable, CaseIterable {
    /// The handler's effects were written (a handled business failure included).
    case applied
    /// The inbox (or the dead-letter mark) recognised the record as done already.
    case duplicate
    /// Failed transiently; it runs again, in place or from `retry_schedule`.
    case retried
    /// Written to `<topic>.DLT` (permanent failure, or out of attempts).
    case deadLettered = "dead_lettered"
  }

  public var worker: String
  public var topic: String
  public var result: Result
  /// The run itself: inbox claim, handler, and for a failure the retry or dead-letter write.
  public var duration: Duration

  public init(worker: String, topic: String, result: Result, duration: Duration) {
    self.worker = worker
    self.topic = topic
    self.result = result
    self.duration = duration
  }
}
