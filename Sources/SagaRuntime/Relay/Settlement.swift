import Synchronization

/// A relay's settle write (rows marked sent, failures counted) running beside its rounds
/// (``OutboxRelay``): on PostgreSQL at 1,000 sagas/s that write and its commit held the next
/// round up for milliseconds each time, with every row committed meanwhile waiting. One runs
/// at a time; its rows stay in flight (never read back or sent again) until it is done.
final class Settlement: Sendable {
  /// The rows it settles.
  let ids: [Int64]
  /// How many of them failed (known from the reports before the write).
  let failures: Int
  private let finished = Atomic<Bool>(false)
  private let task = Mutex<Task<Int, any Error>?>(nil)

  /// Starts `write`, which returns how many rows it marked sent.
  init(ids: [Int64], failures: Int, write: @escaping @Sendable () async throws -> Int) {
    self.ids = ids
    self.failures = failures
    let started = Task { [self] in
      defer { finished.store(true, ordering: .releasing) }
      return try await write()
    }
    task.withLock { $0 = started }
  }

  /// Whether the write has ended, so that ``sent()`` returns at once.
  var isDone: Bool { finished.load(ordering: .acquiring) }

  /// The rows marked sent, or the write's failure; waits for the write.
  func sent() async throws -> Int {
    let running = task.withLock { $0 }
    return try await running?.value ?? 0
  }
}
