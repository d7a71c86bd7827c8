import SagaTestSupport
import Synchronization

@testable import SagaStorage

/// What a relay lease holder hears of the other instances' outbox commits
/// (`SagaDatabase.listenForOutboxWrites`), from the moment ``start(on:)`` returns.
final class AnnouncementListener: Sendable {
  private let heard = Mutex<[OutboxAnnouncement]>([])
  private let listening = Atomic(false)
  private let task = Mutex<Task<Void, any Error>?>(nil)

  var announcements: [OutboxAnnouncement] { heard.withLock { $0 } }

  /// Listens on `holder`, and returns once the server has the `LISTEN`.
  static func start(on holder: SagaDatabase) async throws -> AnnouncementListener {
    let listener = AnnouncementListener()
    let task = Task {
      try await holder.listenForOutboxWrites(listening: { listener.listening.store(true, ordering: .relaxed) }) {
        announcement in listener.heard.withLock { $0.append(announcement) }
      }
    }
    listener.task.withLock { $0 = task }
    try await eventually("the holder listens") { listener.listening.load(ordering: .relaxed) }
    return listener
  }

  /// Stops listening (also on a test's failure, from a `defer`).
  func cancel() { task.withLock { $0 }?.cancel() }

  /// Stops listening and waits until the listener has ended cleanly.
  func stop() async throws {
    cancel()
    try await task.withLock({ $0 })?.value
  }
}
