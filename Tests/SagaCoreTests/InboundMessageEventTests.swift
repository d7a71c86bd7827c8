import SagaCore
import Testing

/// `InboundMessage.event(_:)`: a record's body is decoded once for every reader of the batch
/// (its locks, its batch read, its handling), and never served stale.
@Suite("Inbound message events", .timeLimit(.minutes(1)))
struct InboundMessageEventTests {
  private static let first = ReservationCompleted(paymentId: 17, userId: 3, reservationId: 9, paidAmount: 50_000)
  private static let second = ReservationCompleted(paymentId: 18, userId: 4, reservationId: 10, paidAmount: 7_000)

  private static func message(_ body: [UInt8]?) -> InboundMessage {
    InboundMessage(topic: "reservation-completed", partition: 0, offset: 1, key: nil, value: body, headers: [])
  }

  @Test("the body decoded for one reader is the one the next reader gets, also through a copy")
  func decodedOnce() throws {
    let message = Self.message(EventCodec.encode(Self.first))
    #expect(try message.event(ReservationCompleted.self) == Self.first)
    let copy = message
    #expect(try copy.event(ReservationCompleted.self) == Self.first)
    #expect(copy == message, "the decoded body is not part of what the record is")
  }

  @Test("a new body is decoded anew; another type is decoded as that type; a bad body still fails")
  func neverStale() throws {
    var message = Self.message(EventCodec.encode(Self.first))
    #expect(try message.event(ReservationCompleted.self) == Self.first)
    message.value = EventCodec.encode(Self.second)
    #expect(try message.event(ReservationCompleted.self) == Self.second)
    let compensation = CompensatePayment(paymentId: 18, userId: 4, refundAmount: 7_000, reason: "test")
    message.value = EventCodec.encode(compensation)
    #expect(try message.event(CompensatePayment.self) == compensation)
    let bad = Self.message(Array("{".utf8))
    for _ in 0..<2 { #expect(throws: SagaError.self) { try bad.event(ReservationCompleted.self) } }
  }
}
