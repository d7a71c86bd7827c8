/// What became of one handler run of a consume worker: the `result` label of
/// `sagad_events_processed_total` (Docs/metrics.md); bounded, used as a label value.
public enum RecordResult: String, Sendable, Hashable, CaseIterable {
  /// The handler's effects were written (a handled business failure included).
  case applied
  /// The inbox (or the dead-letter mark) recognised the record as done already.
  case duplicate
  /// Failed transiently; it runs again, in place or from `retry_schedule`.
  case retried
  /// Written to `<topic>.DLT` (permanent failure, or out of attempts).
  case deadLettered = "dead_lettered"
}
