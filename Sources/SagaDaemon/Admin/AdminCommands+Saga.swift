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
    var entries: [PointsAuditEntry]?
    if let points {
      violations += try await points.verify().map { "points: \($0)" }
      let recorded = try await points.auditEntries()
      violations += CrossServiceAudit.pointsViolations(recorded, rule: rewardRule).map { "points: \($0)" }
      entries = recorded
      checked.append("points")
    }
    var audited = try await payments?.auditedPayments()
    if let socket = request.text("peer") {
      // The other sagad's records for the role this one does not run.
      let peer = try await Self.peerAudit(socket)
      audited = audited ?? peer.payments?.compactMap(Self.auditedPayment)
      entries = entries ?? peer.points?.map(Self.auditEntry)
      checked.append("the peer at \(socket)")
    }
    if let audited, let entries {
      violations += CrossServiceAudit.violations(payments: audited, points: entries, rule: rewardRule).map {
        "saga: \($0)"
      }
      checked.append("across both")
    } else if request.text("peer") != nil {
      throw AdminProtocolError(.roleNotRunning, "neither this sagad nor the peer runs the other role")
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

  /// `audit`: the records of this sagad's roles that `verify` compares across services.
  func audit(_ request: AdminRequest) async throws -> AdminReply {
    let payments = try await self.payments?.auditedPayments().map { payment in
      AdminJSON.Audit.Payment(
        paymentId: payment.paymentId, userId: payment.userId, amount: payment.amount,
        status: payment.status.rawValue, rewardAmount: payment.rewardAmount)
    }
    let points = try await self.points?.auditEntries().map { entry in
      AdminJSON.Audit.PointsRecord(
        paymentId: entry.paymentId, userId: entry.userId, paidAmount: entry.paidAmount,
        rewardedPoints: entry.rewardedPoints)
    }
    let document = AdminJSON.Audit(payments: payments, points: points)
    if request.json { return try Self.json(document) }
    return .final(.ok, "\(payments?.count ?? 0) payments, \(points?.count ?? 0) Points records (use --json)")
  }

  /// Asks the sagad at `socket` for its `audit` document. The client blocks on its socket, so
  /// it runs on a thread of its own, not on the cooperative pool.
  private static func peerAudit(_ socket: String) async throws -> AdminJSON.Audit {
    let reply: AdminReply = try await withCheckedThrowingContinuation { continuation in
      Thread.detachNewThread {
        do {
          let client = try AdminClient(socketPath: socket, timeout: .seconds(30))
          defer { client.close() }
          continuation.resume(returning: try client.send(AdminRequest(.audit, json: true)))
        } catch {
          continuation.resume(
            throwing: AdminProtocolError(.unavailable, "cannot ask the peer at \(socket): \(error)"))
        }
      }
    }
    guard reply.code == .ok, let json = reply.json else {
      throw AdminProtocolError(.unavailable, "the peer at \(socket) answered \(reply.code): \(reply.text)")
    }
    return try JSONDecoder().decode(AdminJSON.Audit.self, from: Data(json.utf8))
  }

  private static func auditedPayment(_ payment: AdminJSON.Audit.Payment) -> AuditedPayment? {
    PaymentStatus(rawValue: payment.status).map { status in
      AuditedPayment(
        paymentId: payment.paymentId, userId: payment.userId, amount: payment.amount, status: status,
        rewardAmount: payment.rewardAmount)
    }
  }

  private static func auditEntry(_ record: AdminJSON.Audit.PointsRecord) -> PointsAuditEntry {
    PointsAuditEntry(
      paymentId: record.paymentId, userId: record.userId, paidAmount: record.paidAmount,
      rewardedPoints: record.rewardedPoints)
  }
}
