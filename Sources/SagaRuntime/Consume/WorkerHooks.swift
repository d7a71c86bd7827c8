/// Test and fault-injection hooks of a worker.
public struct WorkerHooks: Sendable {
  /// Called after a batch's database commit and before its offset commit: the crash
  /// window that the inbox must make harmless.
  public var afterDatabaseCommit: (@Sendable (String) throws -> Void)?

  public init(afterDatabaseCommit: (@Sendable (String) throws -> Void)? = nil) {
    self.afterDatabaseCommit = afterDatabaseCommit
  }
}
