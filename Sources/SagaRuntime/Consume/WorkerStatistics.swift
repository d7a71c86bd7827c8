/// Running counts of one consume worker, for `status` and metrics.
public struct WorkerStatistics: Sendable, Equatable {
  /// Records whose effects were committed (at the first attempt or a later one).
  public var applied = 0
  /// Records the inbox recognised as already applied.
  public var duplicates = 0
  /// Re-runs of records after a transient failure, in place or from `retry_schedule`.
  public var retries = 0
  /// Times a record was parked in (or put back into) `retry_schedule` to wait for its next attempt.
  public var retriesScheduled = 0
  /// `retry_schedule` entries that then succeeded.
  public var retriedOK = 0
  /// Records dead-lettered to `<topic>.DLT` (permanent, or out of attempts).
  public var deadLettered = 0
  /// Entries of this worker's group waiting in `retry_schedule`, as of its last write.
  public var retryScheduleDepth = 0
  /// Batches committed.
  public var batches = 0
  /// Batches run again record by record, each in a savepoint, after their run without
  /// savepoints failed (a record's failure, or their commit's): a few are the normal price of
  /// failures; many, on several instances, mean they keep meeting on the same rows.
  public var isolatedReruns = 0
  /// Batches written as one statement without a transaction (PostgreSQL,
  /// `SagaMessageHandler.writesInOneStatement`).
  public var oneStatementBatches = 0
  /// Batches whose write as one statement failed, nothing of it written, and that ran again
  /// as a transaction: a few where instances meet on the same rows or a record needs a read
  /// after the batch's writes (a user's second record); many mean the fallback costs more than
  /// it saves.
  public var oneStatementFallbacks = 0
  public var lastError: String?
  /// Set while the worker waits for an unreachable database (PostgreSQL): the error.
  public var storageUnavailable: String?

  public init() {}
}
