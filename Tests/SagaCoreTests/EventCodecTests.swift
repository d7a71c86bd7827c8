import Foundation
import SagaCore
import Testing

/// The wire contract of Docs/event-catalog.md: the report's field names, integers for amounts,
/// `eventVersion` as a string, report-format bodies (no version, no paymentId) accepted.
@Suite("Event codec", .timeLimit(.minutes(2)))
struct EventCodecTests {
  static let reservation = ReservationCompleted(paymentId: 17, userId: 3, reservationId: 9, paidAmount: 50_000)
  static let rewarded = PointRewardCompleted(
    pointId: 41, userId: 3, rewardedAmount: 5_000, reservationId: 9, paymentId: 17)
  static let rewardFailed = PointRewardFailed(
    userId: 3, paymentId: 17, reservationId: 9, reason: "user-not-enrolled: user 3 has no point account")
  static let compensate = CompensatePayment(
    paymentId: 17, userId: 3, refundAmount: 50_000, reason: "포인트 적립 실패로 인한 결제 보상 트랜잭션: \"quoted\" / slash")
  static let compensationFailed = CompensationFailed(
    paymentId: 17, userId: 3, refundAmount: 50_000, reason: "amount-mismatch: paid 40000, asked 50000")

  /// The body as a JSON object, parsed by JSONSerialization (not by the code under test).
  private func object(_ bytes: [UInt8]) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
  }

  @Test("every event survives encode → decode unchanged")
  func roundTrip() throws {
    #expect(
      try EventCodec.decode(ReservationCompleted.self, from: EventCodec.encode(Self.reservation)) == Self.reservation)
    #expect(try EventCodec.decode(PointRewardCompleted.self, from: EventCodec.encode(Self.rewarded)) == Self.rewarded)
    #expect(
      try EventCodec.decode(PointRewardFailed.self, from: EventCodec.encode(Self.rewardFailed)) == Self.rewardFailed)
    #expect(try EventCodec.decode(CompensatePayment.self, from: EventCodec.encode(Self.compensate)) == Self.compensate)
    #expect(
      try EventCodec.decode(CompensationFailed.self, from: EventCodec.encode(Self.compensationFailed))
        == Self.compensationFailed)
  }

  @Test("ReservationCompleted encodes as compact JSON with sorted keys and a string version")
  func exactBytes() {
    let text = String(decoding: EventCodec.encode(Self.reservation), as: UTF8.self)
    #expect(text == #"{"eventVersion":"1.0","paidAmount":50000,"paymentId":17,"reservationId":9,"userId":3}"#)
  }

  @Test("each body has exactly the report's field names and JSON types")
  func fieldNamesAndTypes() throws {
    let bodies: [(EventType, [String: Any])] = [
      (.reservationCompleted, try object(EventCodec.encode(Self.reservation))),
      (.pointRewardCompleted, try object(EventCodec.encode(Self.rewarded))),
      (.pointRewardFailed, try object(EventCodec.encode(Self.rewardFailed))),
      (.compensatePayment, try object(EventCodec.encode(Self.compensate))),
      (.compensationFailed, try object(EventCodec.encode(Self.compensationFailed))),
    ]
    let expected: [EventType: Set<String>] = [
      .reservationCompleted: ["eventVersion", "paymentId", "userId", "reservationId", "paidAmount"],
      .pointRewardCompleted: ["eventVersion", "pointId", "userId", "rewardedAmount", "reservationId", "paymentId"],
      .pointRewardFailed: ["eventVersion", "userId", "paymentId", "reservationId", "reason"],
      .compensatePayment: ["eventVersion", "paymentId", "userId", "refundAmount", "reason"],
      .compensationFailed: ["eventVersion", "paymentId", "userId", "refundAmount", "reason"],
    ]
    for (type, body) in bodies {
      #expect(Set(body.keys) == expected[type], "\(type)")
      #expect(Set(type.fieldNames) == expected[type], "\(type) catalog")
      #expect(body["eventVersion"] as? String == "1.0", "\(type)")
      for (key, value) in body where key != "eventVersion" && key != "reason" {
        #expect(value is NSNumber && !(value is Bool), "\(type).\(key) should be a JSON number")
      }
    }
    let compensate = try object(EventCodec.encode(Self.compensate))
    #expect(compensate["reason"] as? String == Self.compensate.reason)
    #expect(compensate["refundAmount"] as? Int64 == 50_000)
  }

  @Test("the report's exact JSON decodes: no eventVersion, Spring field names")
  func reportFormat() throws {
    // As Spring's JsonSerializer writes the report's ReservationCompletedKafkaEvent record.
    let json = #"{"paymentId":1001,"userId":42,"reservationId":555,"paidAmount":50000}"#
    let event = try EventCodec.decode(ReservationCompleted.self, from: bytes(json))
    #expect(event.paymentId == 1001)
    #expect(event.userId == 42)
    #expect(event.reservationId == 555)
    #expect(event.paidAmount == 50_000)
    #expect(event.eventVersion == EventVersion(major: 1, minor: 0))
    #expect(event.messageKey == "1001")

    let compensate = try EventCodec.decode(
      CompensatePayment.self,
      from: bytes(#"{"paymentId":1001,"userId":42,"refundAmount":50000,"reason":"포인트 적립 실패"}"#))
    #expect(compensate == CompensatePayment(paymentId: 1001, userId: 42, refundAmount: 50_000, reason: "포인트 적립 실패"))

    let failed = try EventCodec.decode(
      PointRewardFailed.self, from: bytes(#"{"userId":42,"paymentId":1001,"reservationId":555,"reason":"x"}"#))
    #expect(failed == PointRewardFailed(userId: 42, paymentId: 1001, reservationId: 555, reason: "x"))
  }

  @Test("PointRewardCompleted without paymentId: decodes, keys by reservationId, encodes without the field")
  func rewardWithoutPaymentId() throws {
    let json = #"{"pointId":7,"userId":42,"rewardedAmount":5000,"reservationId":555}"#
    let event = try EventCodec.decode(PointRewardCompleted.self, from: bytes(json))
    #expect(event.paymentId == nil)
    #expect(event.messageKey == "555")
    #expect(try object(EventCodec.encode(event))["paymentId"] == nil)
    #expect(try EventCodec.decode(PointRewardCompleted.self, from: EventCodec.encode(event)) == event)

    let explicitNull = #"{"pointId":7,"userId":42,"rewardedAmount":5000,"reservationId":555,"paymentId":null}"#
    #expect(try EventCodec.decode(PointRewardCompleted.self, from: bytes(explicitNull)).paymentId == nil)
    #expect(Self.rewarded.messageKey == "17")
  }

  @Test("unknown fields are ignored")
  func unknownFields() throws {
    let json = #"""
      {"eventVersion":"1.3","paymentId":5,"userId":6,"reservationId":7,"paidAmount":1,
       "currency":"KRW","nested":{"a":[1,2,{"b":null}]},"flag":true}
      """#
    let event = try EventCodec.decode(ReservationCompleted.self, from: bytes(json))
    #expect(event.paymentId == 5 && event.userId == 6 && event.reservationId == 7 && event.paidAmount == 1)
    #expect(event.eventVersion == EventVersion(major: 1, minor: 3))
  }

  @Test("encoding always writes eventVersion 1.0, whatever version was read")
  func encodesCurrentVersion() throws {
    let read = try EventCodec.decode(
      ReservationCompleted.self,
      from: bytes(#"{"eventVersion":"1.9","paymentId":1,"userId":2,"reservationId":3,"paidAmount":4}"#))
    #expect(read.eventVersion.minor == 9)
    #expect(try object(EventCodec.encode(read))["eventVersion"] as? String == "1.0")
  }

  @Test("message keys are the paymentId in decimal")
  func messageKeys() {
    #expect(Self.reservation.messageKey == "17")
    #expect(Self.rewardFailed.messageKey == "17")
    #expect(Self.compensate.messageKey == "17")
    #expect(Self.compensationFailed.messageKey == "17")
    let big = ReservationCompleted(paymentId: Int64.max, userId: 1, reservationId: 1, paidAmount: 0)
    #expect(big.messageKey == "9223372036854775807")
  }

  @Test("large ids and amounts survive without floating-point loss")
  func largeIntegers() throws {
    let event = ReservationCompleted(
      paymentId: 9_007_199_254_740_993, userId: Int64.max, reservationId: 1, paidAmount: Int64.max - 1)
    let text = String(decoding: EventCodec.encode(event), as: UTF8.self)
    #expect(text.contains("\"paymentId\":9007199254740993"))
    #expect(text.contains("\"paidAmount\":9223372036854775806"))
    #expect(try EventCodec.decode(ReservationCompleted.self, from: EventCodec.encode(event)) == event)
  }
}
