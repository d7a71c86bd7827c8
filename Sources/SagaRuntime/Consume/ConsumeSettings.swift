/// How a consume worker batches (Docs/design.md, "Local transaction per batch"). Retries
/// follow the node's `RetryPolicy`.
public struct ConsumeSettings: Sendable, Equatable {
  /// Most records applied in one write transaction (`consumer.batch_max`).
  public var batchMax = 500
  /// How long one poll waits for a first record (less when a retry is due sooner).
  public var pollTimeout: Duration = .milliseconds(100)

  public init() {}
}
