import AdminProtocol
import Foundation
import Payments
import Points
import SagaCore

/// `saga` (the timeline across both services) and `verify` (the invariants of the local
/// databases, across them when this sagad hosts both roles).
extension AdminCommands {
  func saga(_ request: AdminRequest) async throws -> AdminReply {
    guard payments != nil || points != nil else { throw Self.roleMissing("payments") }
    let id = request.integer("payment")!
    let paymentSteps = try await payments?.steps(paymentId: id) ?? []
    let pointSteps = try await points?.steps(paymentId: id) ?? []
    if paymentSteps.isEmpty, pointSteps.isEmpty {
      if let payments, try await payments.payment(id: id) != nil {
        // A payment always has its accepted step; keep going with an empty timeline.
      } else {
        throw AdminProtocolError(.notFound, "payment \(id) does not exist")
      }
    }
    let documents = SagaTimeline.merge(payments: paymentSteps, points: pointSteps)
    if request.json { return try Self.json(AdminJSON.Saga(paymentId: id, steps: documents)) }
    var out = ReplyBuilder()
    out.header(["AT", "SERVICE", "STEP", "TOPIC", "PARTITION", "OFFSET", "OUTCOME"])
    for step in documents {
      out.row([
        step.at, step.service, step.step, step.topic ?? "-", step.partition.map(String.init) ?? "-",
        step.offset.map(String.init) ?? "-", step.outcome,
      ])
    }
    let sides = [payments == nil ? nil : "payments", points == nil ? nil : "points"].compactMap { $0 }
    return out.finish(.ok, "\(documents.count) steps (\(sides.joined(separator: " and ")))")
  }

  func verify(_ request: AdminRequest) async throws -> AdminReply {
    var violations: [String] = []
    var warnings: [String] = []
    var checked: [String] = []
    if let payments {
      violations += try await payments.verify().map { "payments: \($0)" }
      checked.append("payments")
      warnings = try await unfinishedWarnings(payments)
    }
    if let points {
      violations += try await points.verify().map { "points: \($0)" }
      checked.append("points")
    }
    if let payments, let points {
      let settled = try await payments.settledPayments()
      let rewards = try await points.rewardTotals()
      violations += CrossServiceAudit.violations(settled: settled, rewards: rewards, rule: rewardRule).map {
        "saga: \($0)"
      }
      checked.append("across both")
    }
    let note = warnings.isEmpty ? "" : "; \(warnings.count) warning\(warnings.count == 1 ? "" : "s")"
    let (code, text): (ReplyCode, String) =
      violations.isEmpty
      ? (.ok, "ok: no violations (\(checked.joined(separator: ", ")))" + note)
      : (.verifyFailed, "verify found \(violations.count) violation\(violations.count == 1 ? "" : "s")" + note)
    if request.json {
      return try Self.json(
        AdminJSON.Verify(ok: violations.isEmpty, violations: violations, warnings: warnings), code: code, text: text)
    }
    var out = ReplyBuilder()
    for violation in violations { out.text(violation) }
    for warning in warnings { out.text("warning: \(warning)") }
    return out.finish(code, text)
  }

  /// One line per saga without an outcome for longer than `sweeper.stuck_after` (the first
  /// 100, then how many more).
  private func unfinishedWarnings(_ payments: PaymentsService) async throws -> [String] {
    let limit = stuckAfter()
    let now = Date()
    let (sagas, total) = try await payments.unfinishedSagas(now: now, olderThan: limit, limit: 100)
    var warnings = sagas.map { saga in
      let age = Int(now.timeIntervalSince(saga.updatedAt))
      let republished = saga.republishCount > 0 ? ", re-announced \(saga.republishCount) times" : ""
      return "payments: payment \(saga.paymentId) is still \(saga.status) after \(age) s"
        + " (sweeper.stuck_after is \(DurationParsing.format(limit))\(republished))"
    }
    if total > sagas.count { warnings.append("payments: and \(total - sagas.count) more sagas without an outcome") }
    return warnings
  }
}
