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

/// Every broker down for 20 s while 1,000 payments are made: the payments commit locally,
/// their events wait in the outbox, and once the brokers return every saga completes with
/// exactly one effect each (Docs/design.md, "Outbox relay"; issue 4).
@Suite("All brokers down while payments are made", .serialized, .timeLimit(.minutes(3)))
struct BrokerOutageTests {
  static let logger: Logger = {
    var logger = Logger(label: "broker-outage-test")
    logger.logLevel = .critical
    return logger
  }()

  static let brokers = 3
  static let users: ClosedRange<Int64> = 1...100
  /// 10 % of the users have no point account: their payments take the compensation path.
  static let unenrolled: ClosedRange<Int64> = 91...100
  static let initialBalance: Int64 = 1_000_000
  static let paymentCount = 1_000
  static let outage: Duration = .seconds(20)

  /// How the node's producers treat messages they cannot deliver.
  struct Producers: Sendable, CustomTestStringConvertible {
    let label: String
    let properties: [String: String]
    /// Whether deliveries time out during the outage (`message.timeout.ms` < the outage).
    let deliveriesFail: Bool
    var testDescription: String { label }
  }

  /// The production default keeps the messages in librdkafka's queue for the whole outage;
  /// a 4 s `message.timeout.ms` makes deliveries fail during it, so the relay has to keep
  /// the rows pending and send them again.
  static let producers = [
    Producers(
      label: "message.timeout.ms 300 s (default): queued through the outage", properties: [:], deliveriesFail: false),
    Producers(
      label: "message.timeout.ms 4 s: deliveries fail, the relay re-sends", properties: ["message.timeout.ms": "4000"],
      deliveriesFail: true),
  ]

  /// One payment's row after the saga.
  struct Outcome {
    let id: Int64
    let amount: Int64
    let status: String
    let rewardAmount: Int64?
  }

  /// A node with both roles on a 3-broker embedded cluster. The sweeper's `stuck_after` is
  /// an hour, so it cannot re-announce a saga whose event was lost: a loss must show.
  final class Harness: Sendable {
    let cluster: EmbeddedKafkaCluster
    let node: SagaNode
    let directory: TemporaryDirectory
    let task: Task<Void, any Error>

    init(producerProperties: [String: String]) throws {
      cluster = try EmbeddedKafkaCluster(brokers: BrokerOutageTests.brokers, logger: BrokerOutageTests.logger)
      for topic in TopicCatalog.allTopics { try cluster.createTopic(topic, partitions: 3) }
      directory = try TemporaryDirectory()
      var configuration = SagaNodeConfiguration(
        stateDirectory: directory.path, bootstrapServers: cluster.bootstrapServers)
      configuration.consumerProperties = ["session.timeout.ms": "4000", "heartbeat.interval.ms": "500"]
      configuration.producerProperties = producerProperties
      configuration.sweeper = SweeperSettings(stuckAfter: .seconds(3600), interval: .seconds(15), maxRepublish: 5)
      let node = try SagaNode(configuration: configuration, logger: BrokerOutageTests.logger)
      self.node = node
      task = Task { try await node.run() }
    }

    func stop() async {
      task.cancel()
      _ = try? await task.value
      await cluster.close()
    }

    var payments: PaymentsService { node.payments! }
    var points: PointsService { node.points! }

    func setBrokers(up: Bool) throws {
      for id in cluster.brokerIDs {
        if up { try cluster.setBrokerUp(id) } else { try cluster.setBrokerDown(id) }
      }
    }

    /// Unsent outbox rows of (payments, points).
    func pending() async throws -> (payments: Int, points: Int) {
      (
        try await payments.database.read { db in try Outbox.pendingCount(in: db) },
        try await points.database.read { db in try Outbox.pendingCount(in: db) }
      )
    }

    func count(_ database: SagaDatabase, _ sql: String) async throws -> Int {
      try await database.read { db in try db.value(Int.self, sql) ?? 0 }
    }

    /// The node's relays, workers and tasks, for a failure message.
    var diagnostics: String {
      let relays = node.relays.map { "\($0.name): \($0.statistics)" }
      let workers = node.workers.map { "\($0.name): \($0.statistics)" }
      let tasks = node.supervisor.snapshots().map { "\($0.name) \($0.state) \($0.lastError ?? "")" }
      return (relays + workers + tasks).joined(separator: "\n")
    }

    /// `eventually`, recording the node's state when it times out.
    func eventually(
      _ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool
    ) async throws {
      do {
        try await SagaTestSupport.eventually(what, timeout: timeout, condition)
      } catch {
        Issue.record("\(what): \(diagnostics)")
        throw error
      }
    }

    func status(_ paymentId: Int64) async throws -> PaymentStatus? {
      try await payments.payment(id: paymentId)?.status
    }
  }

  @Test(
    "all brokers down 20 s while 1,000 payments are made → all complete after recovery, nothing lost or doubled",
    arguments: producers)
  func paymentsDuringOutage(_ producers: Producers) async throws {
    let harness = try Harness(producerProperties: producers.properties)
    do {
      try await run(harness, producers)
    } catch {
      await harness.stop()
      throw error
    }
    await harness.stop()
  }

  private func run(_ harness: Harness, _ producers: Producers) async throws {
    let payments = harness.payments
    let points = harness.points
    for user in Self.users {
      try await payments.addUser(id: user, initialBalance: Self.initialBalance)
      if !Self.unenrolled.contains(user) { _ = try await points.enroll(userId: user) }
    }

    // The saga works end to end, both paths, before the outage: every group has joined.
    let warmRewarded = try await harness.node.pay(PayRequest(userId: 1, scheduleId: 1, seat: "W1", amount: 10_000))
    let warmRefunded = try await harness.node.pay(PayRequest(userId: 91, scheduleId: 1, seat: "W2", amount: 10_000))
    try await harness.eventually("the warm-up payments to complete", timeout: .seconds(60)) {
      let first = try await harness.status(warmRewarded.paymentId)
      let second = try await harness.status(warmRefunded.paymentId)
      return first == .rewarded && second == .refunded
    }
    try await harness.eventually("the warm-up events sent") { try await harness.pending() == (0, 0) }
    let sentBefore = harness.node.relays.map(\.statistics.sent)

    // Down: 1,000 payments paced over the outage (one every 20 ms), then the rest of the
    // 20 s waited out, so that the brokers stay down for the outage's whole length.
    let clock = ContinuousClock()
    try harness.setBrokers(up: false)
    let downAt = clock.now
    var made: [(request: PayRequest, result: PayResult)] = []
    for index in 0..<Self.paymentCount {
      try await clock.sleep(until: downAt + Self.outage * index / Self.paymentCount)
      let user = Self.users.lowerBound + Int64(index % Self.users.count)
      let request = PayRequest(
        userId: user, scheduleId: Int64(100 + index), seat: "S\(index)", amount: Int64(1_000 + (index % 37) * 100))
      let result = try await harness.node.pay(request)
      #expect(!result.duplicate && result.status == .paid)
      made.append((request, result))
    }
    try await clock.sleep(until: downAt + Self.outage)
    // Nothing reached Kafka: every ReservationCompleted is still owed, none was consumed.
    let pendingWhileDown = try await harness.pending()
    #expect(pendingWhileDown.payments == Self.paymentCount, "every payment's event waits in the outbox")
    #expect(pendingWhileDown.points == 0)
    #expect(
      try await harness.count(payments.database.storage, "SELECT COUNT(*) FROM payments WHERE status = 'PAID'")
        == Self.paymentCount)
    #expect(harness.node.relays.map(\.statistics.sent) == sentBefore, "nothing was persisted while down")
    let paymentsRelay = try #require(harness.node.relays.first { $0.name == "payments" })
    if producers.deliveriesFail {
      #expect(paymentsRelay.statistics.failedAttempts > 0, "timed-out deliveries were counted")
    } else {
      #expect(paymentsRelay.statistics.failedAttempts == 0, "every message waited in librdkafka's queue")
    }
    try harness.setBrokers(up: true)
    #expect(clock.now - downAt >= Self.outage)

    try await harness.eventually("every payment terminal after recovery", timeout: .seconds(120)) {
      try await harness.count(
        payments.database.storage, "SELECT COUNT(*) FROM payments WHERE status IN ('REWARDED', 'REFUNDED')")
        == Self.paymentCount + 2
    }
    try await harness.eventually("both outboxes drained") { try await harness.pending() == (0, 0) }
    // With failing deliveries, rows that failed were sent again: they are sent now.
    let resent = try await harness.count(
      payments.database.storage, "SELECT COUNT(*) FROM outbox WHERE attempts > 0 AND sent_at IS NOT NULL")
    #expect(producers.deliveriesFail ? resent > 0 : resent == 0, "\(resent) rows sent after a failed attempt")

    let outcomes = try await payments.database.read { db in
      try db.query("SELECT id, amount, status, reward_amount FROM payments").map { row in
        Outcome(id: row[0], amount: row[1], status: row[2], rewardAmount: row[3])
      }
    }
    let rewarded = outcomes.filter { $0.status == PaymentStatus.rewarded.rawValue }
    let refundedIDs = Set(outcomes.filter { $0.status == PaymentStatus.refunded.rawValue }.map(\.id))
    let statusByPayment = Dictionary(uniqueKeysWithValues: outcomes.map { ($0.id, $0.status) })
    for (request, result) in made {
      let expected: PaymentStatus = Self.unenrolled.contains(request.userId) ? .refunded : .rewarded
      #expect(statusByPayment[result.paymentId] == expected.rawValue, "payment \(result.paymentId)")
    }
    // The outage's payments of unenrolled users, and the refunded warm-up payment.
    let unenrolledPayments = made.filter { Self.unenrolled.contains($0.request.userId) }.count + 1
    #expect(refundedIDs.count == unenrolledPayments && rewarded.count == outcomes.count - unenrolledPayments)

    // Exactly one reward per rewarded payment, of the rule's amount, and none for the others.
    let rewards = try await points.database.read { db in
      try db.query("SELECT payment_id, COUNT(*), SUM(amount) FROM point_ledger GROUP BY payment_id")
        .map { row in (paymentId: row[0] as Int64, count: row[1] as Int, points: row[2] as Int64) }
    }
    #expect(Set(rewards.map(\.paymentId)) == Set(rewarded.map(\.id)))
    #expect(rewards.allSatisfy { $0.count == 1 }, "no payment rewarded twice")
    let rewardByPayment = Dictionary(uniqueKeysWithValues: rewards.map { ($0.paymentId, $0.points) })
    for payment in rewarded {
      let expected = RewardRule.standard.reward(forPaid: payment.amount)
      #expect(rewardByPayment[payment.id] == expected && payment.rewardAmount == expected, "payment \(payment.id)")
    }
    let pointsHeld = try await harness.count(
      points.database.storage, "SELECT COALESCE(SUM(balance), 0) FROM point_accounts")
    #expect(Int64(pointsHeld) == rewards.reduce(0) { $0 + $1.points })

    // Exactly one refund (and one recorded reward failure) per refunded payment.
    let refunds = try await payments.database.read { db in
      try db.query("SELECT payment_id, COUNT(*) FROM refunds GROUP BY payment_id")
        .map { row in (paymentId: row[0] as Int64, count: row[1] as Int) }
    }
    #expect(Set(refunds.map(\.paymentId)) == refundedIDs)
    #expect(refunds.allSatisfy { $0.count == 1 }, "no payment refunded twice")
    let refundCredits = try await harness.count(
      payments.database.storage, "SELECT COUNT(*) FROM wallet_ledger WHERE kind = 'refund'")
    #expect(refundCredits == refundedIDs.count)
    #expect(
      try await harness.count(points.database.storage, "SELECT COUNT(*) FROM reward_failures") == refundedIDs.count)

    // Each event was written to an outbox once; none was dead-lettered or re-announced.
    let emitted = try await points.database.read { db in
      try db.query("SELECT topic, COUNT(*) FROM outbox GROUP BY topic")
        .map { row in (row[0] as String, row[1] as Int) }
    }
    #expect(
      Dictionary(uniqueKeysWithValues: emitted) == [
        "point-reward-completed": rewarded.count, "point-reward-failed": refundedIDs.count,
        "compensate-payment": refundedIDs.count,
      ])
    #expect(
      try await harness.count(
        payments.database.storage, "SELECT COUNT(*) FROM outbox WHERE topic = 'reservation-completed'")
        == Self.paymentCount + 2)
    #expect(
      try await harness.count(payments.database.storage, "SELECT COUNT(*) FROM outbox WHERE topic LIKE '%.DLT'") == 0)
    #expect(try await harness.count(payments.database.storage, "SELECT COUNT(*) FROM saga_republishes") == 0)
    for worker in harness.node.workers {
      #expect(worker.statistics.deadLettered == 0, "\(worker.name)")
      #expect(worker.statistics.retryScheduleDepth == 0, "\(worker.name)")
    }
    // Every task came back by itself: none is left failed or waiting for an operator.
    for task in harness.node.supervisor.snapshots() {
      #expect(task.state == .running, "\(task.name): \(task.state), \(task.lastError ?? "-")")
    }

    // Money: what the users were given is in their wallets or in payments not refunded.
    let wallets = try await harness.count(payments.database.storage, "SELECT SUM(balance) FROM wallets")
    let kept = try await harness.count(
      payments.database.storage, "SELECT SUM(amount) FROM payments WHERE status != 'REFUNDED'")
    #expect(Int64(Self.users.count) * Self.initialBalance == Int64(wallets + kept))
    #expect(try await payments.verify().isEmpty)
    #expect(try await points.verify().isEmpty)
  }
}
