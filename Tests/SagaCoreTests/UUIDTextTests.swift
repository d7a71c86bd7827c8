import Foundation
import SagaCore
import Testing

@Suite("UUID text and parsed envelopes", .timeLimit(.minutes(2)))
struct UUIDTextTests {
  @Test("canonicalText parses what UUID(uuidString:) parses, and lowercasedText is its lowercase form")
  func agreesWithFoundation() {
    for _ in 0..<200 {
      let uuid = UUID()
      #expect(uuid.lowercasedText == uuid.uuidString.lowercased())
      #expect(UUID(canonicalText: uuid.uuidString) == uuid)
      #expect(UUID(canonicalText: uuid.lowercasedText) == uuid)
    }
    let texts = [
      "", "not-a-uuid", "5B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0", "5b1c2d3e4f5061728394a5b6c7d8e9f0",
      "{5b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0}", "5b1c2d3e-4f50-6172-8394-a5b6c7d8e9f",
      "5b1c2d3e-4f50-6172-8394-a5b6c7d8e9f00",
      "5b1c2d3e_4f50-6172-8394-a5b6c7d8e9f0", "gb1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
      "5b1c2d3e-4f50-6172-8394-a5b6c7d8é9f",
    ]
    for text in texts {
      #expect(UUID(canonicalText: text) == UUID(uuidString: text), "\(text)")
    }
    // Foundation parses with sscanf, which skips blanks inside the groups and so reads a
    // garbled id as some other UUID; canonicalText refuses it (the inbox then keys the
    // record by its coordinates, as for any message without a valid eventId).
    #expect(UUID(canonicalText: " 5b1c2d3e-4f50-6172-8394-a5b6c7d8e9f") == nil)
  }

  @Test("an inbound message's envelope follows its headers, also when they change")
  func envelopeFollowsHeaders() {
    let envelope = EventEnvelope(eventType: .reservationCompleted, trace: .start())
    var message = InboundMessage(
      topic: "reservation-completed", partition: 0, offset: 1, key: nil, value: nil, headers: envelope.headers)
    #expect(message.envelope.eventId == envelope.eventId)
    #expect(message.deduplicationKey == envelope.eventId.uuidString.lowercased())
    message.headers = []
    #expect(message.envelope.eventId == nil)
    #expect(message.deduplicationKey == "offset:reservation-completed[0]@1")
  }
}
