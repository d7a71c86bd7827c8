import Foundation
import SagaCore
import Testing

/// EventCodec writes and reads bodies by hand on its hot path; these pin that it is
/// indistinguishable from Foundation's coders, which it falls back to for anything else.
@Suite("Event codec fast path", .timeLimit(.minutes(2)))
struct FastJSONTests {
  static let reasons = [
    "", "plain", "포인트 적립 실패로 인한 결제 보상 트랜잭션", "\"quoted\" and \\backslash\\", "a/slash//",
    "emoji 🎟️ and é", "tab\there", "line\nbreak", "nul\u{0}byte", "del\u{7F}", "bell\u{7}", "\u{2028}sep",
  ]

  private static func foundationBytes(_ event: some SagaEvent) throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return Array(try encoder.encode(event))
  }

  @Test("encoding gives exactly JSONEncoder's bytes for every event and awkward reasons")
  func encodesLikeFoundation() throws {
    for reason in Self.reasons {
      let events: [any SagaEvent] = [
        ReservationCompleted(paymentId: 17, userId: 3, reservationId: 9, paidAmount: 50_000),
        PointRewardCompleted(pointId: 41, userId: 3, rewardedAmount: 0, reservationId: 9, paymentId: 17),
        PointRewardCompleted(pointId: .max, userId: 3, rewardedAmount: 5, reservationId: 9, paymentId: nil),
        PointRewardFailed(userId: 3, paymentId: 17, reservationId: 9, reason: reason),
        CompensatePayment(paymentId: 17, userId: 3, refundAmount: 50_000, reason: reason),
        CompensationFailed(paymentId: 17, userId: 3, refundAmount: 0, reason: reason),
      ]
      for event in events {
        #expect(EventCodec.encode(event) == (try Self.foundationBytes(event)), "\(event)")
      }
    }
  }

  /// Keys that differ only in case, or by letters beyond ASCII: the order must be
  /// JSONEncoder's `.sortedKeys` order.
  private static let casedKeys = [
    "b": 1, "B": 2, "a": 3, "Ab": 4, "aB": 5, "ab": 6, "éa": 7, "Éb": 8, "ea": 9, "z": 10, "A": 11,
  ]

  @Test("keys that differ only in case come out in JSONEncoder's order")
  func sortsKeysLikeFoundation() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let flat = try #require(FlatJSONEncoder.encode(Self.casedKeys))
    let foundation = try encoder.encode(Self.casedKeys)
    #expect(String(decoding: flat, as: UTF8.self) == String(decoding: foundation, as: UTF8.self))
  }

  @Test("decoding agrees with JSONDecoder on valid bodies and fails where it fails")
  func decodesLikeFoundation() throws {
    let bodies = [
      #"{"paymentId":17,"userId":3,"reservationId":9,"paidAmount":50000}"#,
      #"{"eventVersion":"1.0","paidAmount":50000,"paymentId":17,"reservationId":9,"userId":3}"#,
      #" { "eventVersion" : "1.3" , "paidAmount" : 0 , "paymentId" : 1 , "reservationId" : 2 , "userId" : 3 } "#,
      #"{"eventVersion":1.0,"paidAmount":1,"paymentId":1,"reservationId":2,"userId":3}"#,
      #"{"eventVersion":null,"paidAmount":1,"paymentId":1,"reservationId":2,"userId":3,"extra":{"a":[1]}}"#,
      #"{"paidAmount":1e3,"paymentId":1,"reservationId":2,"userId":3}"#,
      #"{"paidAmount":1.0,"paymentId":1,"reservationId":2,"userId":3}"#,
      #"{"paidAmount":-5,"paymentId":1,"reservationId":2,"userId":3}"#,
      #"{"paidAmount":"5","paymentId":1,"reservationId":2,"userId":3}"#,
      #"{"paidAmount":5,"paymentId":1,"reservationId":2}"#,
      // (Duplicate keys are where sagad parts from JSONDecoder on purpose: EventValidationTests.)
      #"{"paidAmount":05,"paymentId":1,"reservationId":2,"userId":3}"#,
      #"{"paidAmount":99999999999999999999,"paymentId":1,"reservationId":2,"userId":3}"#,
      #"{"paidAmount":5,"paymentId":1,"reservationId":2,"userId":3} trailing"#,
      #"{"paidAmount":5,"paymentId":1,"reservationId":2,"userId":3,}"#,
      #"{"p\u0061idAmount":5,"paymentId":1,"reservationId":2,"userId":3}"#,
      #"[1]"#, "", "{", "null",
    ]
    for body in bodies {
      let bytes = Array(body.utf8)
      let expected = try? JSONDecoder().decode(ReservationCompleted.self, from: Data(bytes))
      let actual = try? EventCodec.decode(ReservationCompleted.self, from: bytes)
      #expect(actual == expected, "\(body)")
    }
    let failed = #"{"userId":3,"paymentId":17,"reservationId":9,"reason":"say \"no\"\n"}"#
    #expect(
      try EventCodec.decode(PointRewardFailed.self, from: Array(failed.utf8))
        == PointRewardFailed(userId: 3, paymentId: 17, reservationId: 9, reason: "say \"no\"\n"))
  }
}
