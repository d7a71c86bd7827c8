import Synchronization

/// What the records of one batch transaction have touched so far, for a handler that lets the
/// writes held on the connection ride beside a read (`SQLConnection.queryBesideDeferred`): that
/// is right only when no earlier record of the batch wrote the rows the read reads
/// (Docs/storage-engines.md, "Round trips, and deferred writes"). One per batch run without
/// savepoints; a batch run isolated sends each record's writes before the next record starts,
/// so it has none.
public final class BatchMemory: Sendable {
  private let touched = Mutex<Set<String>>([])
  /// What the handler read for the batch's records before the first ran
  /// (`SagaMessageHandler.prefetch`).
  public let prefetched: (any Sendable)?

  public init(prefetched: (any Sendable)? = nil) {
    self.prefetched = prefetched
  }

  /// Notes that the current record touches `key` (a user's account, a payment); true when no
  /// earlier record of the batch did.
  public func touchFirst(_ key: String) -> Bool {
    touched.withLock { $0.insert(key).inserted }
  }
}
