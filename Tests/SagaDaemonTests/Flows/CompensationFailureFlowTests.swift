import Foundation
import Logging
import Payments
import Points
import SagaCore
import SagaDaemon
import SagaKafka
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

/// Compensation failures through the real loop: the `payments.refund` failpoint parks a
/// compensation (permanent at once, transient once its retries run out), `CompensationFailed`
/// reaches its topic, and an operator's retry then refunds exactly once.
@Suite("Compensation failures on the embedded cluster", .timeLimit(.minutes(2)))
struct CompensationFailureFlowTests {
  /// Failpoints on, and retries quick to run out.
  private static func quickRetries(_ configuration: inout SagaNodeConfiguration) {
    configuration.failpointsEnabled = true
    configuration.retry = RetryPolicy(
      attempts: 3, initialDelay: .milliseconds(50), maxDelay: .milliseconds(200), inPlaceAttempts: 2,
      inPlaceDelay: .milliseconds(10))
  }

  @Test(
    "refund failpoint permanent and always-transient → both parked, CompensationFailed on the topic; retry refunds once"
  )
  func parkedThenRetried() async throws {
    try await SagaHarness.run(partitions: 1, configure: Self.quickRetries) { harness in
      let (node, payments, cluster) = (harness.node, harness.payments, harness.cluster)
      // Users 2 and 3 have no point account: Points fails their rewards and asks to compensate.
      try await payments.addUser(id: 2, initialBalance: 100_000)
      try await payments.addUser(id: 3, initialBalance: 100_000)
      try node.failpoints.set(.paymentsRefund, .errorPermanent)
      let permanent = try await node.pay(PayRequest(userId: 2, scheduleId: 1, seat: nil, amount: 50_000))
      try await eventually("payment \(permanent.paymentId) to be parked", timeout: .seconds(60)) {
        try await payments.payment(id: permanent.paymentId)?.status == .compensationFailed
      }

      try node.failpoints.set(.paymentsRefund, .errorTransient)
      let transient = try await node.pay(PayRequest(userId: 3, scheduleId: 1, seat: nil, amount: 30_000))
      try await eventually("payment \(transient.paymentId) to be parked", timeout: .seconds(60)) {
        try await payments.payment(id: transient.paymentId)?.status == .compensationFailed
      }
      let records = try await payments.compensationFailures()
      #expect(
        records.map(\.reasonCode) == ["injected-permanent", "retries-exhausted"],
        "\(records.map(\.reason))")
      #expect(try await payments.balance(userId: 2) == 50_000)
      #expect(try await payments.balance(userId: 3) == 70_000)

      // CompensationFailed for both reached the topic, as kcat reads it.
      var seen: [Int] = []
      try await eventually("both CompensationFailed events on compensation-failed", timeout: .seconds(30)) {
        let read = try await run(
          try requiredTool("kcat"),
          [
            "-C", "-b", cluster.bootstrapServers, "-t", SagaTopic.compensationFailed.rawValue, "-o", "beginning",
            "-e", "-q", "-f", "%s\n",
          ])
        seen = read.stdout.split(separator: "\n").compactMap { line in
          (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["paymentId"] as? Int
        }
        return seen.count >= 2
      }
      #expect(seen == [Int(permanent.paymentId), Int(transient.paymentId)])

      node.failpoints.clear(.paymentsRefund)
      for paid in [permanent, transient] {
        let first = try await payments.retryCompensation(paymentId: paid.paymentId, by: "test")
        #expect(first.result == "refunded")
        let second = try await payments.retryCompensation(paymentId: paid.paymentId, by: "test")
        #expect(second.result == "already-refunded")
      }
      #expect(try await payments.balance(userId: 2) == 100_000)
      #expect(try await payments.balance(userId: 3) == 100_000)
      let refunds = try await payments.database.read { db in
        try db.value(Int.self, "SELECT COUNT(*) FROM wallet_ledger WHERE kind = 'refund'") ?? 0
      }
      #expect(refunds == 2)
      #expect(try await payments.openCompensationCount() == 0)
      #expect(try await payments.verify().isEmpty)
    }
  }
}
