import Synchronization

/// Rounds whose rows are all persisted, being marked sent beside the relay's loop: the loop
/// goes on handing newer rows to the producer while the write waits for the database (behind
/// the service's own transactions, and an fsync), which it used to wait for itself — at
/// 1,000 sagas/s on PostgreSQL that wait was most of the slowest sagas' publish stage
/// (Docs/design.md, "Outbox relay"). One at a time; its rows stay out of the relay's reads
/// until it is done. When it ends it nudges the relay, which takes its outcome.
final class RelaySettlement: Sendable {
  typealias Outcome = Result<(sent: Int, failed: Int), any Error>

  /// The rows being marked: in flight until the write is done.
  let ids: [Int64]
  private let done: Done
  private let task: Task<Outcome, Never>

  init(ids: [Int64], wakeup: Wakeup, _ write: @escaping @Sendable () async throws -> (sent: Int, failed: Int)) {
    self.ids = ids
    let done = Done()
    self.done = done
    task = Task {
      let outcome: Outcome
      do {
        outcome = .success(try await write())
      } catch {
        outcome = .failure(error)
      }
      done.outcome.withLock { $0 = outcome }
      wakeup.nudge()
      return outcome
    }
  }

  /// The write's outcome once it is done; nil while it runs.
  var result: Outcome? { done.outcome.withLock { $0 } }

  /// Waits for the write (shutdown: the relay drains).
  func finish() async -> Outcome { await task.value }

  /// Where the write leaves its outcome for ``result`` to look at without waiting.
  private final class Done: Sendable {
    let outcome = Mutex<Outcome?>(nil)
  }
}
