import Foundation
import GRDB
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

/// The saga end to end in one process: both services on the embedded cluster, real
/// SQLite files, and kcat as the independent reader and writer of the wire format.
@Suite("Saga flow on the embedded cluster", .timeLimit(.minutes(3)))
struct SagaFlowTests {
  @Test("happy path: 50,000 paid from 100,000 → wallet 50,000, reward 5,000, REWARDED; kcat reads the report's fields")
  func happyPath() async throws {
    try await SagaHarness.run { harness in
      try await harness.payments.addUser(id: 1, initialBalance: 100_000)
      _ = try await harness.points.enroll(userId: 1)
      let paid = try await harness.node.pay(PayRequest(userId: 1, scheduleId: 10, seat: "A1", amount: 50_000))
      let view = try await harness.waitForTerminal(paid.paymentId)
      #expect(view.status == .rewarded)
      #expect(view.rewardAmount == 5_000)
      #expect(try await harness.payments.balance(userId: 1) == 50_000)
      #expect(try await harness.points.balance(userId: 1) == 5_000)
      #expect(try await harness.points.reward(userId: 1, paymentId: paid.paymentId)?.amount == 5_000)

      let kcat = try requiredTool("kcat")
      let read = try await run(
        kcat,
        [
          "-C", "-b", harness.cluster.bootstrapServers, "-t", "point-reward-completed", "-o", "beginning",
          "-e", "-q", "-f", "%s\n",
        ])
      let line = try #require(read.stdout.split(separator: "\n").first.map(String.init), "\(read.stderr)")
      let body = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      #expect(Set(body.keys) == ["eventVersion", "pointId", "userId", "rewardedAmount", "reservationId", "paymentId"])
      #expect(body["rewardedAmount"] as? Int == 5_000)
      #expect(body["paymentId"] as? Int == Int(paid.paymentId))
      #expect(try await harness.payments.verify().isEmpty)
      #expect(try await harness.points.verify().isEmpty)
    }
  }

  @Test("compensation: an unenrolled user's 50,000 is refunded once; REFUNDED, reservation CANCELLED")
  func compensationPath() async throws {
    try await SagaHarness.run { harness in
      try await harness.payments.addUser(id: 2, initialBalance: 100_000)
      let paid = try await harness.node.pay(PayRequest(userId: 2, scheduleId: 10, seat: "B1", amount: 50_000))
      let view = try await harness.waitForTerminal(paid.paymentId)
      #expect(view.status == .refunded)
      #expect(view.reservationStatus == .cancelled)
      #expect(try await harness.payments.balance(userId: 2) == 100_000)
      let refunds = try await harness.payments.database.read { db in
        try db.value(Int.self, "SELECT COUNT(*) FROM refunds WHERE payment_id = ?", [paid.paymentId])
      }
      #expect(refunds == 1)
      let kcat = try requiredTool("kcat")
      for topic in ["point-reward-failed", "compensate-payment"] {
        let read = try await run(
          kcat,
          ["-C", "-b", harness.cluster.bootstrapServers, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%s\n"])
        #expect(read.stdout.split(separator: "\n").count == 1, "exactly one \(topic) event: \(read.stdout)")
      }
      #expect(try await harness.payments.verify().isEmpty)
    }
  }

  @Test("a report-format ReservationCompleted from kcat (no eventVersion, no headers) is rewarded")
  func reportFormatFromKcat() async throws {
    try await SagaHarness.run(roles: [.points]) { harness in
      _ = try await harness.points.enroll(userId: 7)
      let kcat = try requiredTool("kcat")
      let body = #"{"paymentId":901,"userId":7,"reservationId":77,"paidAmount":12345}"#
      let sent = try await run(
        kcat, ["-P", "-b", harness.cluster.bootstrapServers, "-t", "reservation-completed", "-k", "901"],
        input: body + "\n")
      #expect(sent.status == 0, "\(sent.stderr)")
      try await eventually("the reward of the kcat message", timeout: .seconds(60)) {
        try await harness.points.balance(userId: 7) == 1_200
      }
    }
  }

  @Test("every topic consumed again from offset 0 by fresh groups changes no balance, ledger or state")
  func replayFromZeroChangesNothing() async throws {
    try await SagaHarness.run { harness in
      try await harness.payments.addUser(id: 1, initialBalance: 100_000)
      try await harness.payments.addUser(id: 2, initialBalance: 100_000)
      _ = try await harness.points.enroll(userId: 1)
      let rewarded = try await harness.node.pay(PayRequest(userId: 1, scheduleId: 5, seat: "A1", amount: 50_000))
      let refunded = try await harness.node.pay(PayRequest(userId: 2, scheduleId: 5, seat: "A2", amount: 30_000))
      #expect(try await harness.waitForTerminal(rewarded.paymentId).status == .rewarded)
      #expect(try await harness.waitForTerminal(refunded.paymentId).status == .refunded)
      let before = try await snapshot(harness)

      // The same handlers and databases behind consumers of brand-new Kafka groups,
      // so every record of every topic is delivered a second time.
      let paymentsDB = harness.payments.database.storage
      let pointsDB = harness.points.database.storage
      let replays: [(any SagaMessageHandler, SagaService, SagaDatabase, Int)] = [
        (ReservationCompletedHandler(), .points, pointsDB, 2),
        (PaymentsSagaTrackerHandler(), .payments, paymentsDB, 2),
        (PaymentCompensationHandler(), .payments, paymentsDB, 1),
      ]
      var workers: [(ConsumeWorker, Int)] = []
      var tasks: [Task<Void, any Error>] = []
      for (handler, service, database, expected) in replays {
        var config = KafkaConsumerConfiguration(
          bootstrapServers: harness.cluster.bootstrapServers, groupId: "fresh-\(UUID().uuidString)")
        config.sessionTimeout = .seconds(4)
        let worker = ConsumeWorker(
          name: "replay-\(handler.consumerGroup.rawValue)",
          consumer: try KafkaConsumer(configuration: config, logger: SagaHarness.logger), database: database,
          handler: handler, service: service, logger: SagaHarness.logger)
        workers.append((worker, expected))
        tasks.append(Task { try await worker.run() })
      }
      try await eventually("every record delivered again and recognised", timeout: .seconds(60)) {
        workers.allSatisfy { worker, expected in worker.statistics.duplicates >= expected }
      }
      for task in tasks { task.cancel() }
      for task in tasks { _ = try? await task.value }
      for (worker, _) in workers {
        #expect(worker.statistics.applied == 0, "\(worker.name) applied something twice")
        #expect(worker.statistics.deadLettered == 0)
      }
      let after = try await snapshot(harness)
      #expect(after == before)
      #expect(try await harness.payments.verify().isEmpty)
      #expect(try await harness.points.verify().isEmpty)
    }
  }

  /// Balances, ledgers and states that a replay must leave exactly as they were.
  private func snapshot(_ harness: SagaHarness) async throws -> [String] {
    let payments = try await harness.payments.database.read { db in
      try db.query(
        """
        SELECT 'wallet ' || user_id || ' ' || balance FROM wallets
        UNION ALL SELECT 'ledger ' || COUNT(*) || ' ' || SUM(amount) FROM wallet_ledger
        UNION ALL SELECT 'payment ' || id || ' ' || status FROM payments
        UNION ALL SELECT 'refunds ' || COUNT(*) FROM refunds
        """
      ).map { try $0.decode(0, as: String.self) }
    }
    let points = try await harness.points.database.read { db in
      try db.query(
        """
        SELECT 'account ' || user_id || ' ' || balance FROM point_accounts
        UNION ALL SELECT 'points ' || COUNT(*) FROM point_ledger
        UNION ALL SELECT 'failures ' || COUNT(*) FROM reward_failures
        """
      ).map { try $0.decode(0, as: String.self) }
    }
    return (payments + points).sorted()
  }
}
