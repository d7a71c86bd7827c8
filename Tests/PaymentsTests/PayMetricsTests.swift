import GRDB
import MetricsTestKit
import Payments
import Testing

/// `sagad_payments_total{result}` as `PaymentsService.pay` counts it: one answer, one count,
/// by what the caller was told.
@Suite("Payments: pay metrics", .timeLimit(.minutes(1)))
struct PayMetricsTests {
  @Test("paid, duplicate, rejected and failed each count once, every series from the start")
  func results() async throws {
    // A metrics factory of this test's own: the process-wide one is shared by parallel tests.
    let metrics = TestMetrics()
    let queue = try DatabaseQueue()
    let database = try PaymentsDatabase(queue)
    let service = PaymentsService(database: database, metrics: PaymentsMetrics(factory: metrics))
    func counted(_ result: String) -> Int64 {
      metrics.counterTotal(label: PaymentsMetrics.payments, dimensions: [("result", result)])
    }
    #expect(metrics.counters(label: PaymentsMetrics.payments).count == PayOutcome.allCases.count)
    #expect(PayOutcome.allCases.allSatisfy { counted($0.rawValue) == 0 })

    try await service.addUser(id: 1, initialBalance: 100_000)
    let request = PayRequest(userId: 1, scheduleId: 10, seat: "A-1", amount: 50_000)
    _ = try await service.pay(request)
    _ = try await service.pay(request)
    await #expect(throws: PaymentsError.self) {
      try await service.pay(PayRequest(userId: 1, scheduleId: 11, seat: "A-2", amount: 500_000))
    }
    #expect(counted("paid") == 1 && counted("duplicate") == 1 && counted("rejected") == 1)
    #expect(counted("failed") == 0)

    // A storage failure (here: the connection closed under it) is the service's fault, not the request's.
    try queue.close()
    await #expect(throws: PaymentsError.self) {
      try await service.pay(PayRequest(userId: 1, scheduleId: 12, seat: "A-3", amount: 1_000))
    }
    #expect(counted("failed") == 1)
    #expect(metrics.counterTotal(label: PaymentsMetrics.payments) == 4)
  }
}
