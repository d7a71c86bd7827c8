/// Test, fault-injection and observation hooks of a worker.
public struct WorkerHooks: Sendable {
  /// Called after a batch's database commit and before its offset commit: the crash
  /// window that the inbox must make harmless.
  public var afterDatabaseCommit: (@Sendable (String) throws -> Void)?
  /// Told of every handler run (metrics; see `RecordObservation`), inside the transaction.
  public var recordProcessed: (@Sendable (RecordObservation) -> Void)?

  public init(
    afterDatabaseCommit: (@Sendable (String) throws -> Void)? = nil,
    recordProcessed: (@Sendable (RecordObservation) -> Void)? = nil
  ) {
    self.afterDatabaseCommit = afterDatabaseCommit
    self.recordProcessed = recordProcessed
  }
}
