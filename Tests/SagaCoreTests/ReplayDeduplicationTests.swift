import Foundation
import SagaCore
import Testing

@Suite("Inbox key of replayed messages", .timeLimit(.minutes(1)))
struct ReplayDeduplicationTests {
  private func message(_ headers: [EnvelopeHeader], offset: Int64 = 9) -> InboundMessage {
    InboundMessage(topic: "reservation-completed", partition: 1, offset: offset, key: nil, value: nil, headers: headers)
  }

  @Test("eventId first, then sagad-replay-of, then the record's own coordinates")
  func order() {
    let eventId = UUID()
    let replayOf = EnvelopeHeader(name: HeaderName.replayOf, value: "offset:reservation-completed[0]@3")
    #expect(
      message([EnvelopeHeader(name: HeaderName.eventId, value: eventId.uuidString), replayOf]).deduplicationKey
        == eventId.uuidString.lowercased())
    // Two replays of one headerless dead letter land at different offsets, with one key.
    #expect(message([replayOf], offset: 20).deduplicationKey == "offset:reservation-completed[0]@3")
    #expect(message([replayOf], offset: 21).deduplicationKey == "offset:reservation-completed[0]@3")
    #expect(message([]).deduplicationKey == "offset:reservation-completed[1]@9")
  }

  @Test("a replay-of that is an event id is compared lower-cased; an empty one counts as absent")
  func normalised() {
    let id = UUID()
    let upper = message([EnvelopeHeader(name: HeaderName.replayOf, value: id.uuidString.uppercased())])
    #expect(upper.envelope.replayOf == id.uuidString.lowercased())
    #expect(upper.deduplicationKey == id.uuidString.lowercased())
    #expect(message([EnvelopeHeader(name: HeaderName.replayOf, value: "")]).deduplicationKey.hasPrefix("offset:"))
  }
}
