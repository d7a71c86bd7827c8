import Foundation
import SagaCore
import SagaKafka
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

/// Rows that can never be sent, and rows an operator takes out of the outbox
/// (Docs/retries-and-dead-letters.md, "Records that cannot be sent").
@Suite("Outbox rows that cannot be sent", .timeLimit(.minutes(2)))
struct OutboxUnsendableTests {
  /// The producer refuses anything above 10,000 bytes, as the default refuses 1 MB.
  private static let limit = 10_000

  private static func fixture() throws -> RelayFixture {
    try RelayFixture(producer: { $0.overrides["message.max.bytes"] = String(limit) })
  }

  @Test("a row above message.max.bytes is stored whole as a dead letter and closed; the rows behind it go at once")
  func oversizedRowIsDeadLettered() async throws {
    let fixture = try Self.fixture()
    let store = try fixture.deadLetterStore()
    // A back-off long enough that a test waiting it out would hit its time limit.
    var settings = RelaySettings()
    settings.initialBackoff = .seconds(600)
    settings.maxBackoff = .seconds(600)
    let relay = fixture.relay(settings: settings, deadLetters: store)
    let big = String(repeating: "x", count: 2 * Self.limit)
    try await fixture.append(["a", big, "b", "c"])
    let task = start(relay)
    relay.wakeup.signal()

    #expect(try await fixture.readTopic(count: 3) == ["a", "b", "c"])
    try await eventually("nothing pending") { try await fixture.pendingCount() == 0 }
    await fixture.stop(task)
    #expect(relay.statistics.sent == 3)
    #expect(relay.statistics.failedAttempts == 0, "an unsendable row is no failed attempt: no back-off")
    #expect(relay.statistics.deadLettered == 1)

    let letters = try await store.list(limit: 10)
    let letter = try #require(letters.first)
    #expect(letters.count == 1)
    #expect(letter.origin == "outbox:payments:2")
    #expect(letter.topic == "reservation-completed.DLT")
    #expect(letter.partition == -1)
    #expect(letter.value == Array(big.utf8), "stored whole")
    #expect(letter.key == Array("k".utf8))
    #expect(letter.status == .pending)
    #expect(letter.reasonCode == "unsendable")
    #expect(letter.originalTopic == "reservation-completed")
    #expect(letter.replayTopic == "reservation-completed")
    #expect(letter.headers.last(named: HeaderName.unsent)?.text?.contains("MSG_SIZE_TOO_LARGE") == true)
    #expect(!letter.replayHeaders.contains { $0.name == HeaderName.unsent })

    let row = try #require(try await relay.entry(id: 2))
    #expect(row.state == .closed)
    #expect(row.closedReason?.hasPrefix("dead-lettered as \(letter.id): MSG_SIZE_TOO_LARGE") == true)
    #expect(try await relay.entries(includeDone: false, limit: 10).isEmpty)
    #expect(try await relay.entries(includeDone: true, limit: 10).map(\.state) == [.sent, .closed, .sent, .sent])

    // Stored once per row: a relay storing it again (after a crash) adds nothing.
    let again = try await store.recordUnsent(row.record, service: "payments", why: "again")
    #expect(again.id == letter.id)
    #expect(try await store.count() == 1)
  }

  @Test("a dead letter bound for a .DLT topic keeps its own failure headers")
  func deadLetterRowKeepsItsFailure() async throws {
    let fixture = try Self.fixture()
    let store = try fixture.deadLetterStore()
    let headers = [
      RecordHeader(name: HeaderName.DeadLetter.originalTopic, value: "reservation-completed"),
      RecordHeader(name: HeaderName.DeadLetter.exceptionMessage, value: "invalid-json: not an object"),
      RecordHeader(name: HeaderName.failureClass, value: "permanent"),
    ]
    let row = OutboxRecord(
      id: 7,
      message: OutboxMessage(
        topic: "reservation-completed.DLT", keyContent: RecordBytes([0xFF, 0x00]), payload: [1, 2, 3],
        headers: headers),
      createdAt: Date(), attempts: 0)
    let letter = try await store.recordUnsent(row, service: "points", why: "MSG_SIZE_TOO_LARGE: too big")
    #expect(letter.topic == "reservation-completed.DLT")
    #expect(letter.reasonCode == "invalid-json")
    #expect(letter.key == [0xFF, 0x00])
    #expect(letter.headers == headers + [RecordHeader(name: HeaderName.unsent, value: "MSG_SIZE_TOO_LARGE: too big")])
    #expect(letter.origin == "outbox:points:7")
  }

  @Test("discard: a pending row goes to the store as discarded with its note and is never sent; others are refused")
  func discard() async throws {
    let fixture = try Self.fixture()
    let store = try fixture.deadLetterStore()
    let relay = fixture.relay(settings: RelaySettings(), deadLetters: store)
    try await fixture.append(["first", "second"])

    let thrown = { (body: () async throws -> Void) async -> OutboxError.Code? in
      do {
        try await body()
        return nil
      } catch let error as OutboxError {
        return error.code
      } catch {
        return nil
      }
    }
    #expect(await thrown { _ = try await relay.discard(id: 1, note: "  ") } == .invalidRequest)
    #expect(await thrown { _ = try await relay.discard(id: 99, note: "gone") } == .notFound)

    let (entry, letter) = try await relay.discard(id: 1, note: "poison, see ticket 12")
    #expect(entry.state == .closed)
    #expect(entry.closedReason == "discarded (dead letter \(letter.id)): poison, see ticket 12")
    #expect(letter.status == .discarded)
    #expect(letter.discardNote == "poison, see ticket 12")
    #expect(letter.value == Array("first".utf8))
    #expect(letter.reasonCode == "discarded-from-outbox")
    #expect(await thrown { _ = try await relay.discard(id: 1, note: "again") } == .notPending)

    #expect(try await relay.publishRound().sent == 1)
    #expect(try await fixture.readTopic(count: 1) == ["second"])
    #expect(await thrown { _ = try await relay.discard(id: 2, note: "too late") } == .notPending)
    await fixture.producer.close()

    // Without a store nothing could keep the row: refused.
    let bare = fixture.relay(settings: RelaySettings())
    #expect(await thrown { _ = try await bare.discard(id: 2, note: "x") } == .noDeadLetterStore)
  }
}
