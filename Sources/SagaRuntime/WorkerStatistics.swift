/// Running counts of one consume worker, for `status` and metrics.
public struct WorkerStatistics: Sendable, Equatable {
  /// Records whose effects were committed.
  public var applied = 0
  /// Records the inbox recognised as already applied.
  public var duplicates = 0
  /// Records recorded as permanent failures.
  public var failed = 0
  /// Transient failures that were retried.
  public var retries = 0
  /// Batches committed.
  public var batches = 0
  public var lastError: String?

  public init() {}
}
