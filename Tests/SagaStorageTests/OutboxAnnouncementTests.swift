import Foundation
import SagaTestSupport
import Testing

@testable import SagaStorage

/// Several instances on one PostgreSQL database (Docs/storage-engines.md, "Leases"): a
/// standby's commits that wrote outbox rows are announced to the lease holder's relay, which
/// nobody in its own process hands those rows.
@Suite("Outbox commits announced between instances", .postgresServer, .timeLimit(.minutes(2)))
struct OutboxAnnouncementTests {
  @Test("only a committed outbox write of an announcing instance is heard")
  func announcedCommits() async throws {
    try await StorageTablesSchema.twoInstances { holder, standby in
      let listener = try await AnnouncementListener.start(on: holder)
      defer { listener.cancel() }

      // Not heard: an instance that does not announce, a rollback, a commit without outbox rows.
      try await standby.write { db in _ = try Outbox.append(message(), in: db) }
      standby.announceOutboxWrites(true)
      await #expect(throws: InjectedFailure.self) {
        try await standby.write { db in
          _ = try Outbox.append(message(), in: db)
          throw InjectedFailure()
        }
      }
      try await standby.write { db in _ = try db.execute(inboxInsert, ["g", "e1", 1]) }
      // Heard: a commit with outbox rows, once however many it wrote, naming them; without
      // their ids when one took its id from the sequence as it ran.
      try await standby.write { db in
        _ = try Outbox.append(message(), in: db)
        try Outbox.appendDeferred(message(), in: db)
      }
      try await eventually("the announced commit is heard") { listener.announcements.count >= 1 }
      // PostgreSQL delivers notifications in commit order: anything the three commits before
      // had sent would have arrived first.
      #expect(listener.announcements == [OutboxAnnouncement(ids: nil)])
      #expect(try await holder.read { db in try Outbox.pending(limit: 10, in: db).count } == 3)
      let named = try await standby.write { db in
        [try Outbox.append(message(), in: db), try Outbox.append(message(), in: db)]
      }
      try await eventually("the second announced commit is heard") { listener.announcements.count >= 2 }
      #expect(listener.announcements.last == OutboxAnnouncement(ids: named))
      #expect(try await holder.read { db in try Outbox.pending(ids: named, in: db).map(\.id) } == named)

      // Turned off again (this instance took the lease): nothing more is announced.
      standby.announceOutboxWrites(false)
      try await standby.write { db in _ = try Outbox.append(message(), in: db) }
      standby.announceOutboxWrites(true)
      let last = try await standby.write { db in try Outbox.append(message(), in: db) }
      try await eventually("the next announced commit is heard") { listener.announcements.count >= 3 }
      #expect(listener.announcements.count == 3)
      #expect(listener.announcements.last == OutboxAnnouncement(ids: [last]))
      try await listener.stop()
    }
  }
}
