import AdminProtocol
import Foundation
import Payments
import SagaCore
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

@testable import SagaDaemon

/// `"reason": null` from a Java Points, through Payments' tables to what an operator reads:
/// `payment` and `saga`, as text and as JSON, say null and never "null" or "".
@Suite("Admin: a null reason from a Java peer", .timeLimit(.minutes(2)))
struct NullReasonAdminTests {
  @Test("payment and saga show a null reason as null (JSON) and as 'no reason given' (text)")
  func nullReasonShown() async throws {
    let directory = try TemporaryDirectory()
    let commands = try AdminCommands.onBareDatabases(in: directory)
    let payments = try #require(commands.payments)
    try await payments.addUser(id: 1, initialBalance: 100_000)
    let paid = try await payments.pay(PayRequest(userId: 1, scheduleId: 1, seat: nil, amount: 50_000))

    // As the report's Spring Points sends them: its JSON, no key, no headers.
    let failed = #"{"userId":1,"paymentId":\#(paid.paymentId),"reservationId":\#(paid.reservationId),"reason":null}"#
    let compensate = #"{"paymentId":\#(paid.paymentId),"userId":1,"refundAmount":50000,"reason":null}"#
    try await payments.database.write { db in
      for (topic, body, handler) in [
        (SagaTopic.pointRewardFailed, failed, PaymentsSagaTrackerHandler() as any SagaMessageHandler),
        (SagaTopic.compensatePayment, compensate, PaymentCompensationHandler()),
      ] {
        let message = InboundMessage(
          topic: topic.rawValue, partition: 0, offset: 0, key: nil, value: Array(body.utf8), headers: [])
        try handler.handle(message, context: MessageContext(envelope: message.envelope, service: .payments), in: db)
      }
    }

    let paymentJSON = try #require(
      await commands.execute(try AdminRequest.parse("payment \(paid.paymentId) --json")).json)
    #expect(paymentJSON.contains(#""failureReason":null"#), "\(paymentJSON)")
    let payment = try JSONDecoder().decode(AdminJSON.Payment.self, from: Data(paymentJSON.utf8))
    #expect(payment.status == "REFUNDED" && payment.failureReason == nil)
    let paymentText = await commands.execute(try AdminRequest.parse("payment \(paid.paymentId)"))
    let failureLine = try #require(paymentText.lines.first { $0.text.hasPrefix("failure") }?.text)
    #expect(failureLine.split(whereSeparator: \.isWhitespace) == ["failure", "-"], "\(failureLine)")

    let sagaJSON = try #require(await commands.execute(try AdminRequest.parse("saga \(paid.paymentId) --json")).json)
    let saga = try JSONDecoder().decode(AdminJSON.Saga.self, from: Data(sagaJSON.utf8))
    let outcomes = Dictionary(saga.steps.map { ($0.step, $0.outcome) }, uniquingKeysWith: { first, _ in first })
    #expect(outcomes["reward-failed"] == "REWARD_FAILED: no reason given (reason: null)")
    #expect(outcomes["compensation-refunded"]?.hasSuffix("; reason: no reason given (reason: null)") == true)
    let sagaText = await commands.execute(try AdminRequest.parse("saga \(paid.paymentId)"))
    #expect(sagaText.code == .ok)
    #expect(sagaText.lines.contains { $0.text.contains("REWARD_FAILED: no reason given (reason: null)") })
  }
}
