import Foundation
import SagaCore
import Testing

@Suite("Inbox key of replayed messages", .timeLimit(.minutes(1)))
struct ReplayDeduplicationTests {
  private func message(_ headers: [RecordHeader], offset: Int64 = 9) -> InboundMessage {
    InboundMessage(topic: "reservation-completed", partition: 1, offset: offset, key: nil, value: nil, headers: headers)
  }

  @Test("eventId first, then sagad-replay-of, then the record's own coordinates")
  func order() {
    let eventId = UUID()
    let replayOf = RecordHeader(name: HeaderName.replayOf, value: "offset:reservation-completed[0]@3")
    #expect(
      message([RecordHeader(name: HeaderName.eventId, value: eventId.uuidString), replayOf]).deduplicationKey
        == eventId.uuidString.lowercased())
    // Two replays of one headerless dead letter land at different offsets, with one key.
    #expect(message([replayOf], offset: 20).deduplicationKey == "offset:reservation-completed[0]@3")
    #expect(message([replayOf], offset: 21).deduplicationKey == "offset:reservation-completed[0]@3")
    #expect(message([]).deduplicationKey == "offset:reservation-completed[1]@9")
  }

  @Test("a re-announcement keeps its eventId and is keyed by it and its sagad-republished count")
  func republished() {
    let id = UUID()
    let eventId = RecordHeader(name: HeaderName.eventId, value: id.uuidString)
    let original = message([eventId])
    let first = message([eventId, RecordHeader(name: HeaderName.republished, value: "1")], offset: 10)
    let second = message([eventId, RecordHeader(name: HeaderName.republished, value: "2")], offset: 11)
    #expect(original.deduplicationKey == id.uuidString.lowercased())
    #expect(first.deduplicationKey == id.uuidString.lowercased() + "/republished-1")
    #expect(Set([original, first, second].map(\.deduplicationKey)).count == 3)
    // A redelivery of the same re-announcement is still one effect.
    #expect(message(first.headers, offset: 12).deduplicationKey == first.deduplicationKey)
  }

  @Test("a replay-of that is an event id is compared lower-cased; an empty one counts as absent")
  func normalised() {
    let id = UUID()
    let upper = message([RecordHeader(name: HeaderName.replayOf, value: id.uuidString.uppercased())])
    #expect(upper.envelope.replayOf == id.uuidString.lowercased())
    #expect(upper.deduplicationKey == id.uuidString.lowercased())
    #expect(message([RecordHeader(name: HeaderName.replayOf, value: "")]).deduplicationKey.hasPrefix("offset:"))
  }
}
