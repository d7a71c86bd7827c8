import Payments
import Points
import SagaCore

/// The invariants of `verify` that span both services (Docs/admin-protocol.md, `verify`):
/// checked when one sagad hosts both roles, or across two with `verify --peer`.
///
/// Payments' side: a `REWARDED` payment has exactly one reward, of the rule's amount and of what
/// Payments recorded; a `REFUNDED` payment has none. Points' side: every reward and every failure
/// names a payment that exists, of that user and that amount, and every reward is the rule's
/// amount for it — so points minted by forged `ReservationCompleted` events (no such payment,
/// or another amount) are violations, not balances that merely add up.
enum CrossServiceAudit {
  static func violations(payments: [AuditedPayment], points: [PointsAuditEntry], rule: RewardRule) -> [String] {
    var violations: [String] = []
    let byId = Dictionary(payments.map { ($0.paymentId, $0) }, uniquingKeysWith: { first, _ in first })
    var rewards: [Int64: [Int64]] = [:]
    for entry in points {
      let what =
        entry.rewardedPoints.map { "reward of \($0) points" } ?? "reward failure"
      let subject = "\(what) for payment \(entry.paymentId) (user \(entry.userId), paid \(entry.paidAmount) KRW)"
      guard let payment = byId[entry.paymentId] else {
        violations.append("\(subject): Payments has no such payment")
        continue
      }
      if payment.userId != entry.userId {
        violations.append("\(subject): the payment is user \(payment.userId)'s")
      }
      if payment.amount != entry.paidAmount {
        violations.append("\(subject): the payment is of \(payment.amount) KRW")
      }
      if let points = entry.rewardedPoints {
        rewards[entry.paymentId, default: []].append(points)
        let expected = rule.reward(forPaid: payment.amount)
        if points != expected {
          violations.append("\(subject): the rule (\(rule)) gives \(expected) for \(payment.amount) KRW")
        }
      }
    }
    for payment in payments {
      let id = payment.paymentId
      let credited = rewards[id] ?? []
      switch payment.status {
      case .rewarded:
        guard credited.count == 1 else {
          violations.append("payment \(id) (REWARDED): \(credited.count) rewards in Points' ledger, expected 1")
          continue
        }
        if let reported = payment.rewardAmount, reported != credited[0] {
          violations.append(
            "payment \(id) (REWARDED): Payments recorded a reward of \(reported) points, Points' ledger has"
              + " \(credited[0])")
        }
      case .refunded:
        if !credited.isEmpty {
          violations.append(
            "payment \(id) (REFUNDED): \(credited.count) rewards (\(credited.reduce(0, +)) points) in Points'"
              + " ledger, expected none")
        }
      default:
        break
      }
    }
    return violations
  }

  /// What Points alone can check: every reward is the rule's amount for the `paidAmount` its
  /// event carried (whether that payment exists is the cross-service check above).
  static func pointsViolations(_ points: [PointsAuditEntry], rule: RewardRule) -> [String] {
    points.compactMap { entry in
      guard let credited = entry.rewardedPoints else { return nil }
      let expected = rule.reward(forPaid: entry.paidAmount)
      guard credited != expected else { return nil }
      return "reward of \(credited) points for payment \(entry.paymentId) (user \(entry.userId)): the rule"
        + " (\(rule)) gives \(expected) for \(entry.paidAmount) KRW"
    }
  }
}
