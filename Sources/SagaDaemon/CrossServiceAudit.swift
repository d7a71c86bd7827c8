import Payments
import Points
import SagaCore

/// The invariants of `verify` that span both databases (issue 5 item 6), checked when one
/// sagad hosts both roles: a `REWARDED` payment has exactly one reward, of the rule's amount
/// and of what Payments recorded; a `REFUNDED` payment has none. (That a `REWARDED` payment
/// has no refund and a `REFUNDED` one exactly one is Payments' own audit.)
enum CrossServiceAudit {
  static func violations(
    settled: [SettledPayment], rewards: [Int64: PaymentRewardTotal], rule: RewardRule
  ) -> [String] {
    var violations: [String] = []
    for payment in settled {
      let id = payment.paymentId
      let total = rewards[id]
      switch payment.status {
      case .rewarded:
        guard let total, total.rewards == 1 else {
          violations.append("payment \(id) (REWARDED): \(total?.rewards ?? 0) rewards in Points' ledger, expected 1")
          continue
        }
        let expected = rule.reward(forPaid: payment.amount)
        if total.points != expected {
          violations.append(
            "payment \(id) (REWARDED): rewarded \(total.points) points, the rule (\(rule)) gives \(expected)"
              + " for \(payment.amount) KRW")
        }
        if let reported = payment.rewardAmount, reported != total.points {
          violations.append(
            "payment \(id) (REWARDED): Payments recorded a reward of \(reported) points, Points' ledger has"
              + " \(total.points)")
        }
      case .refunded:
        if let total, total.rewards > 0 {
          violations.append(
            "payment \(id) (REFUNDED): \(total.rewards) rewards (\(total.points) points) in Points' ledger,"
              + " expected none")
        }
      default:
        break
      }
    }
    return violations
  }
}
