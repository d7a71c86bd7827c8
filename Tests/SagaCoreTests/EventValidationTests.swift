import SagaCore
import Testing

/// Every class of bad input becomes a permanent `SagaError` with the right code, naming the
/// field, so the runtime can dead-letter it with a reason an operator can act on.
@Suite("Event validation", .timeLimit(.minutes(2)))
struct EventValidationTests {
  struct Case: Sendable, CustomTestStringConvertible {
    let label: String
    let json: String
    let code: SagaError.Code
    /// The field the error must name; nil for body-level errors.
    let field: String?
    var testDescription: String { label }
  }

  static let reservationCases: [Case] = [
    Case(label: "not JSON", json: "paymentId=1", code: .invalidJSON, field: nil),
    Case(label: "empty body", json: "", code: .invalidJSON, field: nil),
    Case(label: "truncated", json: #"{"paymentId":1,"userId":"#, code: .invalidJSON, field: nil),
    Case(label: "array", json: "[1,2,3]", code: .invalidJSON, field: nil),
    Case(label: "JSON string", json: #""ReservationCompleted""#, code: .invalidJSON, field: nil),
    // Foundation keeps the first value, Jackson the last: the same bytes would mean two amounts.
    Case(
      label: "duplicate key",
      json: #"{"paymentId":1,"userId":2,"reservationId":3,"paidAmount":1,"paidAmount":100000}"#,
      code: .invalidJSON, field: nil),
    Case(
      label: "duplicate key, escaped",
      json: #"{"paymentId":1,"userId":2,"reservationId":3,"paidAmount":1,"paid\u0041mount":5, "\u0070aidAmount":9}"#,
      code: .invalidJSON, field: nil),
    Case(
      label: "duplicate key in a nested object",
      json: #"{"paymentId":1,"userId":2,"reservationId":3,"paidAmount":1,"x":{"a":1,"a":2}}"#,
      code: .invalidJSON, field: nil),
    Case(
      label: "byte-order mark",
      json: "\u{FEFF}" + #"{"paymentId":1,"userId":2,"reservationId":3,"paidAmount":100}"#, code: .invalidJSON,
      field: nil),
    Case(
      label: "missing paidAmount", json: #"{"paymentId":1,"userId":2,"reservationId":3}"#, code: .missingField,
      field: "paidAmount"),
    Case(
      label: "missing paymentId", json: #"{"userId":2,"reservationId":3,"paidAmount":100}"#, code: .missingField,
      field: "paymentId"),
    Case(
      label: "null userId", json: #"{"paymentId":1,"userId":null,"reservationId":3,"paidAmount":100}"#,
      code: .missingField, field: "userId"),
    Case(
      label: "amount as string", json: #"{"paymentId":1,"userId":2,"reservationId":3,"paidAmount":"50000"}"#,
      code: .wrongType, field: "paidAmount"),
    Case(
      label: "amount as fraction", json: #"{"paymentId":1,"userId":2,"reservationId":3,"paidAmount":100.5}"#,
      code: .wrongType, field: "paidAmount"),
    Case(
      label: "id beyond Int64", json: #"{"paymentId":9223372036854775808,"userId":2,"reservationId":3,"paidAmount":1}"#,
      code: .wrongType, field: "paymentId"),
    Case(
      label: "id as bool", json: #"{"paymentId":1,"userId":2,"reservationId":true,"paidAmount":1}"#,
      code: .wrongType, field: "reservationId"),
    Case(
      label: "id as object", json: #"{"paymentId":{"id":1},"userId":2,"reservationId":3,"paidAmount":1}"#,
      code: .wrongType, field: "paymentId"),
    Case(
      label: "negative amount", json: #"{"paymentId":1,"userId":2,"reservationId":3,"paidAmount":-1}"#,
      code: .invalidValue, field: "paidAmount"),
    Case(
      label: "zero paymentId", json: #"{"paymentId":0,"userId":2,"reservationId":3,"paidAmount":1}"#,
      code: .invalidValue, field: "paymentId"),
    Case(
      label: "negative userId", json: #"{"paymentId":1,"userId":-2,"reservationId":3,"paidAmount":1}"#,
      code: .invalidValue, field: "userId"),
    Case(
      label: "major version 2",
      json: #"{"eventVersion":"2.0","paymentId":1,"userId":2,"reservationId":3,"paidAmount":1}"#,
      code: .unsupportedVersion, field: "eventVersion"),
    Case(
      label: "major version 0 as number",
      json: #"{"eventVersion":0.9,"paymentId":1,"userId":2,"reservationId":3,"paidAmount":1}"#,
      code: .unsupportedVersion, field: "eventVersion"),
    Case(
      label: "unknown major wins over missing fields", json: #"{"eventVersion":"3.1","payment":{"id":1}}"#,
      code: .unsupportedVersion, field: "eventVersion"),
    Case(
      label: "malformed version",
      json: #"{"eventVersion":"v1","paymentId":1,"userId":2,"reservationId":3,"paidAmount":1}"#,
      code: .invalidValue, field: "eventVersion"),
    Case(
      label: "version as bool",
      json: #"{"eventVersion":true,"paymentId":1,"userId":2,"reservationId":3,"paidAmount":1}"#,
      code: .wrongType, field: "eventVersion"),
  ]

  @Test("ReservationCompleted: bad input gives the right code and names the field", arguments: reservationCases)
  func reservation(_ testCase: Case) throws {
    let error = try #require(decodingError(ReservationCompleted.self, testCase.json))
    #expect(error.code == testCase.code)
    #expect(error.field == testCase.field)
    #expect(error.failureClass == .permanent)
    #expect(!error.isRetriable)
    #expect(error.message.contains("ReservationCompleted"))
    if let field = testCase.field {
      #expect(error.message.contains(field), "message should name \(field): \(error.message)")
    }
    #expect(error.description.hasPrefix(testCase.code.rawValue + ": "))
  }

  @Test("messages carry the offending value")
  func messagesNameValues() throws {
    let negative = try #require(
      decodingError(
        CompensatePayment.self, #"{"paymentId":1,"userId":2,"refundAmount":-700,"reason":"x"}"#))
    #expect(negative.message.contains("-700"))
    #expect(negative.message.contains("CompensatePayment.refundAmount"))
    let version = try #require(
      decodingError(
        PointRewardFailed.self, #"{"eventVersion":"2.4","userId":1,"paymentId":2,"reservationId":3,"reason":""}"#))
    #expect(version.message.contains("2.4"))
    let garbage = try #require(decodingError(ReservationCompleted.self, "not json at all"))
    #expect(garbage.message.contains("not json at all"))
  }

  @Test("the other events validate their own fields")
  func otherEvents() throws {
    let rewardNegative = try #require(
      decodingError(PointRewardCompleted.self, #"{"pointId":1,"userId":2,"rewardedAmount":-1,"reservationId":3}"#))
    #expect(rewardNegative.code == .invalidValue && rewardNegative.field == "rewardedAmount")

    let rewardPaymentZero = try #require(
      decodingError(
        PointRewardCompleted.self, #"{"pointId":1,"userId":2,"rewardedAmount":1,"reservationId":3,"paymentId":0}"#))
    #expect(rewardPaymentZero.code == .invalidValue && rewardPaymentZero.field == "paymentId")

    let rewardPaymentString = try #require(
      decodingError(
        PointRewardCompleted.self, #"{"pointId":1,"userId":2,"rewardedAmount":1,"reservationId":3,"paymentId":"9"}"#))
    #expect(rewardPaymentString.code == .wrongType && rewardPaymentString.field == "paymentId")

    let missingPoint = try #require(
      decodingError(PointRewardCompleted.self, #"{"userId":2,"rewardedAmount":1,"reservationId":3}"#))
    #expect(missingPoint.code == .missingField && missingPoint.field == "pointId")

    let reasonNumber = try #require(
      decodingError(PointRewardFailed.self, #"{"userId":1,"paymentId":2,"reservationId":3,"reason":42}"#))
    #expect(reasonNumber.code == .wrongType && reasonNumber.field == "reason")

    let missingReason = try #require(
      decodingError(CompensationFailed.self, #"{"paymentId":1,"userId":2,"refundAmount":3}"#))
    #expect(missingReason.code == .missingField && missingReason.field == "reason")
    #expect(missingReason.message.contains("CompensationFailed.reason"))

    let refundFraction = try #require(
      decodingError(CompensationFailed.self, #"{"paymentId":1,"userId":2,"refundAmount":3.25,"reason":""}"#))
    #expect(refundFraction.code == .wrongType && refundFraction.field == "refundAmount")
  }

  @Test("0 is an amount like any other (a Java Long 0 pays, rewards and refunds nothing); negative is refused")
  func zeroAmounts() throws {
    let reward = try EventCodec.decode(
      PointRewardCompleted.self, from: bytes(#"{"pointId":1,"userId":2,"rewardedAmount":0,"reservationId":3}"#))
    #expect(reward.rewardedAmount == 0)
    let paid = try EventCodec.decode(
      ReservationCompleted.self, from: bytes(#"{"paymentId":1,"userId":2,"reservationId":3,"paidAmount":0}"#))
    #expect(paid == ReservationCompleted(paymentId: 1, userId: 2, reservationId: 3, paidAmount: 0))
    let refund = try EventCodec.decode(
      CompensatePayment.self, from: bytes(#"{"paymentId":1,"userId":2,"refundAmount":0,"reason":"x"}"#))
    #expect(refund.refundAmount == 0)
    let failed = try EventCodec.decode(
      CompensationFailed.self, from: bytes(#"{"paymentId":1,"userId":2,"refundAmount":0,"reason":"x"}"#))
    #expect(failed.refundAmount == 0)

    let negativePaid = try #require(
      decodingError(ReservationCompleted.self, #"{"paymentId":1,"userId":2,"reservationId":3,"paidAmount":-1}"#))
    #expect(negativePaid.code == .invalidValue && negativePaid.field == "paidAmount")
    #expect(negativePaid.failureClass == .permanent)
    let negativeRefund = try #require(
      decodingError(CompensationFailed.self, #"{"paymentId":1,"userId":2,"refundAmount":-1,"reason":"x"}"#))
    #expect(negativeRefund.code == .invalidValue && negativeRefund.field == "refundAmount")
    let nullPaid = try #require(
      decodingError(ReservationCompleted.self, #"{"paymentId":1,"userId":2,"reservationId":3,"paidAmount":null}"#))
    #expect(nullPaid.code == .missingField && nullPaid.field == "paidAmount")
  }

  @Test("reason: null (Jackson's for an exception without a message) is nil; an absent reason is still missing")
  func nullReason() throws {
    let failed = try EventCodec.decode(
      PointRewardFailed.self, from: bytes(#"{"userId":1,"paymentId":2,"reservationId":3,"reason":null}"#))
    #expect(failed == PointRewardFailed(userId: 1, paymentId: 2, reservationId: 3, reason: nil))
    let compensate = try EventCodec.decode(
      CompensatePayment.self, from: bytes(#"{"paymentId":2,"userId":1,"refundAmount":50000,"reason":null}"#))
    #expect(compensate.reason == nil && compensate.refundAmount == 50_000)
    let parked = try EventCodec.decode(
      CompensationFailed.self, from: bytes(#"{"paymentId":2,"userId":1,"refundAmount":50000,"reason":null}"#))
    #expect(parked.reason == nil)
    // An empty reason stays an empty string: only null is nil.
    let empty = try EventCodec.decode(
      PointRewardFailed.self, from: bytes(#"{"userId":1,"paymentId":2,"reservationId":3,"reason":""}"#))
    #expect(empty.reason == "")

    // Written back as null, as Jackson writes it, and read back as nil.
    let encoded = String(decoding: EventCodec.encode(compensate), as: UTF8.self)
    #expect(encoded == #"{"eventVersion":"1.0","paymentId":2,"reason":null,"refundAmount":50000,"userId":1}"#)
    #expect(try EventCodec.decode(CompensatePayment.self, from: Array(encoded.utf8)) == compensate)

    let missing = [
      decodingError(PointRewardFailed.self, #"{"userId":1,"paymentId":2,"reservationId":3}"#),
      decodingError(CompensatePayment.self, #"{"paymentId":2,"userId":1,"refundAmount":1}"#),
      decodingError(CompensationFailed.self, #"{"paymentId":2,"userId":1,"refundAmount":1}"#),
    ]
    for (index, error) in missing.enumerated() {
      #expect(error?.code == .missingField && error?.field == "reason", "event \(index)")
    }
  }

  @Test("invalid UTF-8, even in an ignored field, is invalid-json")
  func invalidUTF8() throws {
    let body: [UInt8] =
      Array(#"{"paymentId":1,"userId":2,"reservationId":3,"paidAmount":1,"x":""#.utf8) + [
        0xFF, 0xFE, 0x22, 0x7D,
      ]
    do {
      _ = try EventCodec.decode(ReservationCompleted.self, from: body)
      Issue.record("decoded invalid UTF-8")
    } catch {
      #expect(error.code == .invalidJSON)
      #expect(error.message.contains("UTF-8"))
    }
  }

  @Test("a 200,000-digit number is refused with a reason of bounded length")
  func hugeNumber() {
    let digits = String(repeating: "9", count: 200_000)
    let body = #"{"paymentId":1,"userId":2,"reservationId":3,"paidAmount":"# + digits + "}"
    do {
      _ = try EventCodec.decode(ReservationCompleted.self, from: Array(body.utf8))
      Issue.record("accepted a 200,000-digit amount")
    } catch {
      #expect(error.field == "paidAmount" || error.code == .invalidJSON, "\(error)")
      #expect(error.description.count < 1_000, "reason of \(error.description.count) characters")
    }
  }
}
