import Foundation
import SagaCore
import SagaKafka
import SagaStorage
import SagaTestSupport
import Synchronization
import Testing

@testable import SagaRuntime

/// A relay publishes the rows its writers hand it after their commit without reading them
/// back, and falls back to reading whenever the handoff cannot be trusted to be all there is.
@Suite("Outbox handoff", .timeLimit(.minutes(2)))
struct OutboxHandoffTests {
  /// Appends one row per value in one transaction; returns them as a writer hands them.
  private static func commit(_ values: [String], in fixture: RelayFixture) async throws -> [OutboxRecord] {
    let now = Date()
    return try await fixture.database.write { db in
      try values.map { value in
        let message = OutboxMessage(topic: RelayFixture.topic, key: "k", payload: Array(value.utf8))
        let id = try Outbox.append(message, at: now, in: db)
        return Outbox.record(message, id: id, at: now, engine: db.engine)
      }
    }
  }

  /// A running relay that has read, published and marked "m0": it trusts handed rows from
  /// then on (it trusts nothing handed before its first read, hence a row and a plain signal).
  private static func relayPastFirstRead(_ fixture: RelayFixture) async throws -> (
    OutboxRelay, Task<Void, any Error>
  ) {
    var settings = RelaySettings()
    // No periodic read in the middle of what is counted.
    settings.idleInterval = .seconds(60)
    let relay = fixture.relay(settings: settings)
    let task = start(relay)
    _ = try await commit(["m0"], in: fixture)
    relay.wakeup.signal()
    try await eventually("m0 read, published and marked") { relay.statistics.sent == 1 }
    return (relay, task)
  }

  @Test("handed rows go out without a read; a row handed below what was published, and a plain signal, read")
  func handedThenRead() async throws {
    let fixture = try RelayFixture()
    let (relay, task) = try await Self.relayPastFirstRead(fixture)
    #expect(relay.statistics.readRounds == 1 && relay.statistics.handedRounds == 0)
    let first = try await Self.commit(["m1", "m2"], in: fixture)
    let third = try await Self.commit(["m3"], in: fixture)
    relay.handoff.committed(third)
    try await eventually("m3 published") { relay.statistics.sent == 2 }
    #expect(relay.statistics.readRounds == 1 && relay.statistics.handedRounds == 1, "\(relay.statistics)")
    // m1 and m2 lie below m3: their handoff is not trusted, the relay reads them instead.
    relay.handoff.committed(first)
    try await eventually("m1 and m2 published") { relay.statistics.sent == 4 }
    #expect(relay.statistics.readRounds == 2 && relay.statistics.handedRounds == 1, "\(relay.statistics)")
    // A writer that knows nothing of the handoff signals: read.
    _ = try await Self.commit(["m4"], in: fixture)
    relay.wakeup.signal()
    try await eventually("m4 published") { relay.statistics.sent == 5 }
    #expect(relay.statistics.readRounds == 3)
    // And handed again above everything published.
    relay.handoff.committed(try await Self.commit(["m5", "m6"], in: fixture))
    try await eventually("m5 and m6 published") { relay.statistics.sent == 7 }
    #expect(relay.statistics.readRounds == 3 && relay.statistics.handedRounds == 2, "\(relay.statistics)")
    #expect(try await fixture.pendingCount() == 0)
    await fixture.stop(task)
    // Each row once, m3 before m1: nothing published twice, nothing lost.
    let topic = try await fixture.readTopic(count: 7, settle: .milliseconds(200))
    #expect(topic == ["m0", "m3", "m1", "m2", "m4", "m5", "m6"])
  }

  @Test("a commit that hands nothing, or more than the room, makes the relay read; a nudge alone does not")
  func schedule() {
    let now = SagaClock.continuous.now
    var reads = ReadSchedule(alone: true, lastRead: now)
    let message = OutboxMessage(topic: "t", key: "k", payload: [1])
    func rows(_ ids: Int64...) -> [OutboxRecord] {
      ids.map { OutboxRecord(id: $0, message: message, createdAt: Date(timeIntervalSince1970: 0), attempts: 0) }
    }
    func next(_ handed: [OutboxRecord]?, asked: Bool = false, room: Int = 10, after: Int64 = 0, due: Bool = false)
      -> ReadSchedule.Next
    {
      reads.next(asked: asked, rows: handed, room: room, after: after, due: due)
    }
    #expect(next([]) == .nothing)
    // A commit that described nothing, a plain signal, the idle read: from the oldest row.
    #expect(next(nil) == .read(fromStart: true))
    #expect(next(rows(5), asked: true) == .read(fromStart: true))
    #expect(next(rows(5), due: true) == .read(fromStart: true))
    // More than the room: read, above the rows in flight unless the handed ones lie below.
    #expect(next(rows(5, 6), room: 1, after: 3) == .read(fromStart: false))
    #expect(next(rows(5, 6), room: 1, after: 5) == .read(fromStart: true))
    #expect(next(rows(7, 5, 6)) == .rows(rows(5, 6, 7)))
    reads.published([5, 6, 7], handed: true)
    #expect(next(rows(8, 7)) == .read(fromStart: true), "7 is published already, or lies below what is")
    reads.backlog = true
    #expect(next([]) == .read(fromStart: false), "the last read stopped at its limit")
    reads.backlog = false
    // Not alone: the other instances' rows come from the relay's periodic scan (`due`).
    reads.alone = false
    #expect(next(rows(9)) == .rows(rows(9)))
    reads.published([9], handed: true)
    #expect(next(rows(10), due: true) == .read(fromStart: true))
    // The scan publishes the other instance's 10 and 12 and this one's 13 before its handoff.
    reads.published([10, 12, 13], handed: false)
    #expect(next(rows(11)) == .rows(rows(11)), "below the other instance's rows, above this one's: trusted")
    reads.published([11], handed: true)
    #expect(next(rows(13, 14)) == .rows(rows(14)), "13 went out with the read")
    #expect(next(rows(13)) == .nothing)
    reads.published([14], handed: true)
    // Reads past what the relay remembers: handed rows below the forgotten ids are read.
    let past = 100 + Int64(ReadSchedule.readMemory)
    reads.published(Array(100...past), handed: false)
    #expect(next(rows(50)) == .read(fromStart: true))
    #expect(next(rows(past + 1)) == .rows(rows(past + 1)))
    let off = ReadSchedule(handoff: false, alone: true, lastRead: now)
    #expect(off.next(asked: false, rows: rows(11), room: 10, after: 0, due: false) == .read(fromStart: false))
  }

  @Test("a handed row goes out while the rows before it still wait for the database to be marked sent")
  func settlementBesideTheLoop() async throws {
    let fixture = try RelayFixture()
    let (relay, task) = try await Self.relayPastFirstRead(fixture)
    let first = try await Self.commit(["m1"], in: fixture)
    let second = try await Self.commit(["m2"], in: fixture)
    // Hold the database's writer: marking m1 sent has to wait for it, as it waits behind a
    // service's transactions and their fsync under load.
    let (gate, holding) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
    let database = fixture.database
    let holder = Task {
      try await database.write { _ in
        holding.signal()
        gate.wait()
      }
    }
    var open = false
    defer { if !open { gate.signal() } }
    try await eventually("the writer held") { holding.wait(timeout: .now()) == .success }
    relay.handoff.committed(first)
    try await eventually("m1's delivery report") {
      relay.statistics.handedRounds == 1 && fixture.producer.inFlight == 0
    }
    relay.handoff.committed(second)
    let published = try await fixture.readTopic(count: 3)
    #expect(published == ["m0", "m1", "m2"])
    #expect(relay.statistics.sent == 1, "m1 is not marked yet: m2 did not wait for that write")
    open = true
    gate.signal()
    try await holder.value
    try await eventually("m1 and m2 marked") { relay.statistics.sent == 3 }
    #expect(try await fixture.pendingCount() == 0)
    await fixture.stop(task)
    let topic = try await fixture.readTopic(count: 3, settle: .milliseconds(200))
    #expect(topic == ["m0", "m1", "m2"], "each row once")
  }

  @Test("a mark that fails beside the loop leaves its rows unsent: the relay reads them again, and nothing is lost")
  func failedSettlementRecovers() async throws {
    let fixture = try RelayFixture()
    let (relay, task) = try await Self.relayPastFirstRead(fixture)
    // Every mark fails from here on, as a database that refuses writes would make it.
    _ = try await fixture.database.write { db in
      try db.execute(
        """
        CREATE TRIGGER refuse_marks BEFORE UPDATE OF sent_at ON outbox
        BEGIN SELECT RAISE(ABORT, 'marks refused by the test'); END
        """)
    }
    relay.handoff.committed(try await Self.commit(["m1", "m2"], in: fixture))
    try await eventually("the failed mark seen") {
      relay.statistics.lastError?.contains("marks refused by the test") == true
    }
    let pending = try await fixture.pendingCount()
    #expect(relay.statistics.sent == 1 && pending == 2)
    _ = try await fixture.database.write { db in try db.execute("DROP TRIGGER refuse_marks") }
    try await eventually("m1 and m2 marked once the writes go through") { relay.statistics.sent == 3 }
    #expect(try await fixture.pendingCount() == 0)
    await fixture.stop(task)
    // Sent again while their marks failed (the consumers' inbox absorbs that), never lost.
    let topic = try await fixture.readTopic(count: 3, distinct: true, settle: .milliseconds(200))
    #expect(topic == ["m0", "m1", "m2"])
  }

  @Test(
    "the handoff keeps rows until taken, and asks for a read after a commit it cannot describe or past its capacity")
  func handoff() {
    let wakeup = Wakeup()
    let handoff = OutboxHandoff(wakeup: wakeup)
    let message = OutboxMessage(topic: "t", key: "k", payload: [1])
    let row = OutboxRecord(id: 1, message: message, createdAt: Date(timeIntervalSince1970: 0), attempts: 0)
    #expect(handoff.take() == nil, "nothing trusted before the relay's first read")
    handoff.committed([row])
    #expect(!wakeup.takeSignal(), "handed rows nudge the relay")
    #expect(handoff.take() == [row])
    #expect(handoff.take() == [])
    handoff.committed(nil)
    #expect(wakeup.takeSignal())
    #expect(handoff.take() == nil)
    handoff.committed(Array(repeating: row, count: OutboxHandoff.capacity + 1))
    #expect(handoff.take() == nil)
  }

  @Test("rows noted in a savepoint that rolled back are not handed")
  func savepointRollback() {
    let actions = CommitActions()
    let message = OutboxMessage(topic: "t", key: "k", payload: [1])
    let row = OutboxRecord(id: 1, message: message, createdAt: Date(timeIntervalSince1970: 0), attempts: 0)
    actions.savepointRolledBack()
    actions.noteOutboxWrite(row)
    #expect(actions.writtenRecords == [row], "a rollback before any row changes nothing")
    actions.savepointRolledBack()
    #expect(actions.writtenRecords == nil && actions.wroteOutbox)
    let dead = CommitActions()
    dead.noteOutboxWrite(row)
    dead.noteOutboxWrite()
    #expect(dead.writtenRecords == nil, "a row without its record")
  }
}
