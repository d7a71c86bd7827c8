import Synchronization

/// Work of the relay's that runs beside its loop, so that the loop goes on handing rows to
/// the producer meanwhile: collecting a round's delivery reports, marking settled rows sent (a write that waits its turn behind the
/// service's own transactions and their fsync) and asking who else is on the database. At
/// 1,000 sagas/s on PostgreSQL, waiting for those was most of the slowest sagas' time from
/// commit to publish (Docs/design.md, "Outbox relay"). The loop looks at ``result`` without
/// waiting; a task given a `wakeup` nudges the relay when it ends.
final class RelaySideTask<Value: Sendable>: Sendable {
  private let done: Done
  private let task: Task<Result<Value, any Error>, Never>

  init(wakeup: Wakeup? = nil, _ work: @escaping @Sendable () async throws -> Value) {
    let done = Done()
    self.done = done
    task = Task {
      let outcome: Result<Value, any Error>
      do {
        outcome = .success(try await work())
      } catch {
        outcome = .failure(error)
      }
      done.outcome.withLock { $0 = outcome }
      wakeup?.nudge()
      return outcome
    }
  }

  /// The outcome once the work is done; nil while it runs.
  var result: Result<Value, any Error>? { done.outcome.withLock { $0 } }

  /// Waits for the work (shutdown: the relay drains).
  func finish() async -> Result<Value, any Error> { await task.value }

  /// Where the work leaves its outcome for ``result`` to look at without waiting.
  private final class Done: Sendable {
    let outcome = Mutex<Result<Value, any Error>?>(nil)
  }
}
