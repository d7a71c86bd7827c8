/// Running counts of a DLT worker, for `status` and metrics.
public struct DeadLetterWorkerStatistics: Sendable, Equatable {
  /// DLT records stored for the first time.
  public var stored = 0
  /// DLT records that were already stored (a redelivery).
  public var duplicates = 0
  /// Batches stored and committed.
  public var batches = 0
  public var lastError: String?

  public init() {}
}
