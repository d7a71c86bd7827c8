/// How a consume worker batches and retries (DESIGN.md §4).
public struct ConsumeSettings: Sendable, Equatable {
  /// Most records applied in one write transaction (`consumer.batch_max`).
  public var batchMax = 500
  /// How long one poll waits for a first record.
  public var pollTimeout: Duration = .milliseconds(100)
  /// Attempts of a record that fails transiently before the worker gives up and
  /// throws (the supervisor restarts it; the record is redelivered, nothing lost).
  public var transientAttempts = 3
  /// First back-off between attempts; doubles each time.
  public var retryDelay: Duration = .milliseconds(200)

  public init() {}
}
