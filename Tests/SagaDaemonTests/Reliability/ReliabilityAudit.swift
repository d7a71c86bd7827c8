import AdminProtocol
import Foundation
import GRDB
import SagaCore

/// The audit every reliability scenario ends with (issue 7), over the databases of the
/// sagad processes that ran it, read-only — after they stopped, or while they run (WAL
/// readers never block the writer), to wait for a quiet state. Returns every violation
/// as a line, so a scenario can assert none and the report can count them:
/// * every payment terminal (`REWARDED`, `REFUNDED`), or `COMPENSATION_FAILED` and listed
///   by `compensations list`; every payment sagad acknowledged exists, with its amount;
/// * money conserved: Σ charges = Σ wallets + Σ payments not refunded, and each wallet is
///   the sum of its ledger;
/// * rewards exactly for `REWARDED` payments, one each, of the rule's amount; point
///   balances equal their ledgers;
/// * exactly one refund (refund row and ledger credit) of the payment's amount per
///   `REFUNDED` payment, none for any other;
/// * the dead-letter stores hold exactly the permanent failures: one dead letter per
///   reward given up after its retries, none for anything else.
/// * every database passes SQLite's `integrity_check`.
/// `verify` runs over the admin sockets (`verifyViolations`), per process.
struct ReliabilityAudit {
  var paymentsDatabase: String
  var pointsDatabase: String
  var deadLetterDatabases: [String]
  /// What the driver was told: plan entry → payment id.
  var acknowledged: [PlannedPayment: Int64]
  /// Payment ids `compensations list` showed as parked.
  var listedParked: Set<Int64> = []
  var rule: RewardRule = .standard

  private struct PaymentRow {
    var id: Int64
    var userId: Int64
    var scheduleId: Int64
    var amount: Int64
    var status: String
    var rewardAmount: Int64?
  }

  func run() throws -> [String] {
    var violations: [String] = []
    // No corruption, whatever the scenario did to the process or its disk.
    for path in Set([paymentsDatabase, pointsDatabase] + deadLetterDatabases).sorted()
    where FileManager.default.fileExists(atPath: path) {
      let result = try open(path).read { db in
        try db.query("PRAGMA integrity_check").map { try $0.decode(0, as: String.self) }
      }
      if result != ["ok"] { violations.append("\(path): integrity_check says \(result.prefix(5))") }
    }
    let payments = try open(paymentsDatabase)
    let points = try open(pointsDatabase)

    let rows = try payments.read { db in
      try db.query("SELECT id, user_id, schedule_id, amount, status, reward_amount FROM payments").map {
        PaymentRow(
          id: $0["id"], userId: $0["user_id"], scheduleId: $0["schedule_id"], amount: $0["amount"],
          status: $0["status"], rewardAmount: $0["reward_amount"])
      }
    }
    let byId = Dictionary(uniqueKeysWithValues: rows.map { ($0.id, $0) })

    // Nothing lost: every acknowledged payment is there, as it was asked for.
    for (planned, id) in acknowledged {
      guard let row = byId[id] else {
        violations.append("payment \(id) (\(planned)) was acknowledged but does not exist")
        continue
      }
      if row.userId != planned.userId || row.scheduleId != planned.scheduleId || row.amount != planned.amount {
        violations.append("payment \(id) is \(row), acknowledged as \(planned)")
      }
    }

    // Terminal, or parked and listed.
    for row in rows {
      switch row.status {
      case "REWARDED", "REFUNDED": break
      case "COMPENSATION_FAILED" where listedParked.contains(row.id): break
      default: violations.append("payment \(row.id) is \(row.status), not terminal (or parked and listed)")
      }
    }

    // Money.
    let money = try payments.read { db in
      (
        charges: try db.value(Int64.self, "SELECT COALESCE(SUM(amount), 0) FROM wallet_ledger WHERE kind = 'charge'")
          ?? 0,
        wallets: try db.value(Int64.self, "SELECT COALESCE(SUM(balance), 0) FROM wallets") ?? 0,
        drifted: try db.query(
          """
          SELECT w.user_id, w.balance, COALESCE(SUM(l.amount), 0) AS ledger FROM wallets w
          LEFT JOIN wallet_ledger l ON l.user_id = w.user_id GROUP BY w.user_id HAVING w.balance != ledger
          """
        ).map {
          "wallet of user \($0["user_id"] as Int64) is \($0["balance"] as Int64), its ledger \($0["ledger"] as Int64)"
        },
        refunds: try db.query("SELECT payment_id, amount FROM refunds").map {
          ($0["payment_id"] as Int64, $0["amount"] as Int64)
        },
        ledger: try db.query("SELECT payment_id, kind, amount FROM wallet_ledger WHERE payment_id IS NOT NULL")
          .map { ($0["payment_id"] as Int64, $0["kind"] as String, $0["amount"] as Int64) }
      )
    }
    let notRefunded = rows.filter { $0.status != "REFUNDED" }.reduce(0) { $0 + $1.amount }
    if money.charges != money.wallets + notRefunded {
      violations.append(
        "money not conserved: charges \(money.charges) != wallets \(money.wallets) + payments not refunded \(notRefunded)"
      )
    }
    violations += money.drifted

    // Refunds: one per REFUNDED payment, of its amount; none elsewhere. Debits: one per payment.
    var refundRows: [Int64: [Int64]] = [:]
    for (payment, amount) in money.refunds { refundRows[payment, default: []].append(amount) }
    var credits: [Int64: [Int64]] = [:]
    var debits: [Int64: [Int64]] = [:]
    for (payment, kind, amount) in money.ledger {
      if kind == "refund" { credits[payment, default: []].append(amount) }
      if kind == "payment" { debits[payment, default: []].append(amount) }
    }
    for row in rows {
      let expected: [Int64] = row.status == "REFUNDED" ? [row.amount] : []
      if (refundRows[row.id] ?? []) != expected {
        violations.append("payment \(row.id) (\(row.status)) has refunds \(refundRows[row.id] ?? [])")
      }
      if (credits[row.id] ?? []) != expected {
        violations.append("payment \(row.id) (\(row.status)) has refund credits \(credits[row.id] ?? [])")
      }
      if (debits[row.id] ?? []) != [-row.amount] {
        violations.append("payment \(row.id) has debits \(debits[row.id] ?? []), expected one of \(row.amount)")
      }
    }
    for payment in Set(refundRows.keys).union(credits.keys).union(debits.keys) where byId[payment] == nil {
      violations.append("refund or debit for unknown payment \(payment)")
    }

    // Rewards: exactly for REWARDED, one each, of the rule's amount.
    let rewards = try points.read { db in
      (
        ledger: try db.query("SELECT payment_id, user_id, amount FROM point_ledger").map {
          ($0["payment_id"] as Int64, $0["user_id"] as Int64, $0["amount"] as Int64)
        },
        drifted: try db.query(
          """
          SELECT a.user_id, a.balance, COALESCE(SUM(l.amount), 0) AS ledger FROM point_accounts a
          LEFT JOIN point_ledger l ON l.user_id = a.user_id GROUP BY a.user_id HAVING a.balance != ledger
          """
        ).map {
          "points of user \($0["user_id"] as Int64) are \($0["balance"] as Int64), their ledger \($0["ledger"] as Int64)"
        },
        givenUp: try Int64.fetchSet(
          db, sql: "SELECT payment_id FROM reward_failures WHERE reason_code != ?",
          arguments: [SagaError.Code.userNotEnrolled.rawValue])
      )
    }
    var rewarded: [Int64: [(Int64, Int64)]] = [:]
    for (payment, user, amount) in rewards.ledger { rewarded[payment, default: []].append((user, amount)) }
    for row in rows {
      let entries = rewarded[row.id] ?? []
      if row.status == "REWARDED" {
        let amount = rule.reward(forPaid: row.amount)
        if entries.count != 1 || entries[0].0 != row.userId || entries[0].1 != amount || row.rewardAmount != amount {
          violations.append(
            "REWARDED payment \(row.id) has rewards \(entries) and reward_amount \(row.rewardAmount.map(String.init) ?? "nil"), expected one of \(amount)"
          )
        }
      } else if !entries.isEmpty {
        violations.append("\(row.status) payment \(row.id) has rewards \(entries)")
      }
    }
    for payment in rewarded.keys where byId[payment] == nil {
      violations.append("reward for unknown payment \(payment)")
    }
    violations += rewards.drifted

    // Dead letters: exactly the rewards given up after their retries.
    var deadLettered: [Int64] = []
    for path in deadLetterDatabases where FileManager.default.fileExists(atPath: path) {
      let store = try open(path)
      let letters = try store.read { db in
        try db.query("SELECT id, original_topic, value FROM dead_letters").map {
          ($0["id"] as Int64, $0["original_topic"] as String?, $0["value"] as Data?)
        }
      }
      for (id, topic, value) in letters {
        guard topic == SagaTopic.reservationCompleted.rawValue, let value,
          let event = try? EventCodec.decode(ReservationCompleted.self, from: Array(value))
        else {
          violations.append("dead letter \(id) in \(path) (topic \(topic ?? "nil")) is no given-up reward")
          continue
        }
        deadLettered.append(event.paymentId)
      }
    }
    if deadLettered.sorted() != rewards.givenUp.sorted() {
      violations.append(
        "dead letters for payments \(deadLettered.sorted()) but rewards given up for \(rewards.givenUp.sorted())")
    }
    return violations
  }

  private func open(_ path: String) throws -> DatabaseQueue {
    var configuration = Configuration()
    configuration.readonly = true
    return try DatabaseQueue(path: path, configuration: configuration)
  }
}

/// `verify` and `compensations list` over the admin sockets of running processes: the
/// live half of the audit. Returns the violations and the parked payment ids listed.
func liveAudit(_ nodes: [ReliabilityNode]) async throws -> (violations: [String], parked: Set<Int64>) {
  var violations: [String] = []
  var parked = Set<Int64>()
  for node in nodes {
    let client = try await node.connect()
    defer { client.close() }
    let reply = try await client.send("verify --json")
    guard let json = reply.json else {
      violations.append("\(node.name): verify gave no document: \(reply.lines.map(\.description))")
      continue
    }
    let verify = try JSONDecoder().decode(AdminJSON.Verify.self, from: Data(json.utf8))
    violations += verify.violations.map { "\(node.name) verify: \($0)" }
    if !verify.ok && verify.violations.isEmpty { violations.append("\(node.name): verify not ok") }
    let compensations = try await client.send("compensations list --json")
    if compensations.code == .ok, let listed = try? decodeReply(AdminJSON.Compensations.self, compensations) {
      parked.formUnion(listed.compensations.map(\.paymentId))
    }
  }
  return (violations, parked)
}
