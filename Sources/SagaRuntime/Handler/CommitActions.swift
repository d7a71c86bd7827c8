public import SagaStorage
import Synchronization

/// Work to do once the write transaction it was registered in has committed: the metric
/// observations of the records a batch handled. A batch whose transaction rolls back (a
/// full disk at COMMIT, a busy database) runs again, and counting its outcomes as they
/// happened would count them twice. One per transaction; the worker runs it after the
/// write returned and simply drops it when the write threw. It also notes whether the
/// transaction wrote outbox rows, so that only such a commit wakes the relay.
public final class CommitActions: Sendable {
  private let actions = Mutex<[@Sendable () -> Void]>([])
  /// The rows written, as the relay would read them, while every one of them is known:
  /// nil once a row was written without its record or a savepoint rolled written rows back
  /// (either way, after a write); empty while nothing was written.
  private let outboxRecords = Mutex<[OutboxRecord]?>([])

  public init() {}

  /// Notes that the transaction wrote to the outbox a row it does not describe (a dead
  /// letter): the relay must read after this commit.
  public func noteOutboxWrite() {
    outboxRecords.withLock { $0 = nil }
  }

  /// Notes that the transaction wrote `record` to the outbox (``MessageContext/emit(_:extraHeaders:in:)``):
  /// after the commit it is handed to the relay, which then need not read it back.
  public func noteOutboxWrite(_ record: OutboxRecord) {
    outboxRecords.withLock { $0?.append(record) }
  }

  /// A savepoint rolled back after rows may have been noted: which of them remain is not
  /// known here, so none is handed and the relay reads instead (failures are rare).
  public func savepointRolledBack() {
    outboxRecords.withLock { records in
      if records?.isEmpty == false { records = nil }
    }
  }

  /// The rows the committed transaction wrote, for ``OutboxHandoff/committed(_:)``; nil when
  /// some are not known (the relay must read).
  public var writtenRecords: [OutboxRecord]? { outboxRecords.withLock { $0 } }

  /// Whether the transaction wrote to the outbox: a commit without such rows need not wake the
  /// relay, whose read would find nothing new (on PostgreSQL a round trip of the engine and
  /// the server, and a round that the next commit with rows would wait behind).
  public var wroteOutbox: Bool { outboxRecords.withLock { $0 != [] } }

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
