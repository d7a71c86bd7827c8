import Logging
import SagaCore
import SagaStorage

/// Waits out a database that cannot be reached (a PostgreSQL restart, a network cut;
/// Docs/storage-engines.md, "Faults"): the same transaction is tried again, 0.5 s after the
/// first failure and at most 10 s apart later, for as long as it takes. Nothing was applied
/// (the transaction did not commit, or committed and is then found by the inbox), nothing is
/// dead-lettered for it, and the supervisor does not count it as the task failing: the
/// database is down, not the worker. Kafka offsets are not committed meanwhile.
struct StorageOutage {
  let clock: SagaClock
  let logger: Logger

  /// Runs `operation`, again and again while it fails with an unavailable database.
  /// - Parameter waiting: called with the error on every failed attempt (for `status`).
  func retrying<T>(
    _ what: String, waiting: (StorageError?) -> Void = { _ in }, _ operation: () async throws -> T
  ) async throws -> T {
    var delay = Duration.milliseconds(500)
    var attempts = 0
    while true {
      do {
        let value = try await operation()
        if attempts > 0 {
          logger.notice("storage is back", metadata: ["operation": "\(what)", "attempts": "\(attempts + 1)"])
          waiting(nil)
        }
        return value
      } catch let error as StorageError where error.kind == .unavailable {
        attempts += 1
        waiting(error)
        // One line when it starts, then one every ~10 attempts: an outage is not a log flood.
        if attempts == 1 || attempts % 10 == 0 {
          logger.warning(
            "storage unavailable; waiting and trying the same transaction again",
            metadata: ["operation": "\(what)", "error": "\(error.message)", "attempts": "\(attempts)"])
        }
        try await clock.sleep(for: delay)
        delay = min(delay * 2, .seconds(10))
      }
    }
  }
}
