import Synchronization

/// Work to do once the write transaction it was registered in has committed: the metric
/// observations of the records a batch handled. A batch whose transaction rolls back (a
/// full disk at COMMIT, a busy database) runs again, and counting its outcomes as they
/// happened would count them twice. One per transaction; the worker runs it after the
/// write returned and simply drops it when the write threw.
public final class CommitActions: Sendable {
  private let actions = Mutex<[@Sendable () -> Void]>([])

  public init() {}

  /// Runs `action` after the commit; with no `CommitActions` (a caller outside a worker's
  /// transaction, such as a test), at once.
  public static func schedule(_ action: @escaping @Sendable () -> Void, on actions: CommitActions?) {
    if let actions {
      actions.actions.withLock { $0.append(action) }
    } else {
      action()
    }
  }

  /// Runs the registered actions in order, once: call it after the transaction committed.
  public func run() {
    let pending = actions.withLock { actions in
      defer { actions = [] }
      return actions
    }
    for action in pending { action() }
  }
}
