import Foundation
import Logging
import Payments
import SagaRuntime
import ServiceLifecycle

/// `sagad --dev --demo`: shows a newcomer one reward and one compensation. It creates
/// user 1 (wallet 100,000, enrolled in Points) and user 2 (wallet 100,000, no point
/// account), has each pay 50,000, and logs how both sagas end. Safe to run again: the
/// users and payments are idempotent.
struct DemoDriver: Service {
  let node: SagaNode
  let logger: Logger

  func run() async throws {
    guard let payments = node.payments, let points = node.points else {
      logger.warning("--demo needs both roles; skipped")
      return
    }
    for user in [Int64(1), 2] {
      do {
        try await payments.addUser(id: user, initialBalance: 100_000)
      } catch {
        // Already there from an earlier run is fine.
        guard error.code == .userExists else { throw error }
      }
    }
    _ = try await points.enroll(userId: 1)
    let rewarded = try await node.pay(PayRequest(userId: 1, scheduleId: 1, seat: "A1", amount: 50_000))
    let compensated = try await node.pay(PayRequest(userId: 2, scheduleId: 1, seat: "A2", amount: 50_000))
    logger.info(
      "demo: two payments of 50,000 made; user 1 earns a reward, user 2 has no point account and is refunded",
      metadata: ["rewardedPayment": "\(rewarded.paymentId)", "compensatedPayment": "\(compensated.paymentId)"])
    for (label, id) in [("reward", rewarded.paymentId), ("compensation", compensated.paymentId)] {
      let final = try await waitForTerminal(payments, id)
      let balance = try await payments.balance(userId: final?.userId ?? 0)
      let pointBalance = try await points.balance(userId: final?.userId ?? 0)
      logger.info(
        "demo: \(label) saga finished",
        metadata: [
          "paymentId": "\(id)", "status": "\(final?.status.rawValue ?? "?")", "wallet": "\(balance)",
          "points": "\(pointBalance.map(String.init) ?? "no account")",
        ])
    }
    try await gracefulShutdown()  // stay up until sagad is stopped
  }

  private func waitForTerminal(_ payments: PaymentsService, _ id: Int64) async throws -> PaymentView? {
    for _ in 0..<600 {
      if let view = try await payments.payment(id: id), view.status.isTerminal { return view }
      try await Task.sleep(for: .milliseconds(50))
    }
    return try await payments.payment(id: id)
  }
}
