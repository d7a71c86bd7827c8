import AdminProtocol
import Foundation
import GRDB
import Payments
import Points
import SagaCore
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

@testable import SagaDaemon

/// `saga` across both services and `verify`'s cross-database checks and warnings, on bare
/// Payments and Points databases whose outbox rows are handed to the other service's
/// handlers by hand (what the relays and workers do over Kafka).
@Suite("Admin: saga timeline across services, verify across databases", .timeLimit(.minutes(2)))
struct AdminSagaVerifyTests {
  private struct Rig {
    let directory: TemporaryDirectory
    let payments: PaymentsService
    let points: PointsService
    var commands: AdminCommands

    init() throws {
      directory = try TemporaryDirectory()
      commands = try AdminCommands.onBareDatabases(in: directory)
      payments = try #require(commands.payments)
      points = try #require(commands.points)
    }

    func run(_ line: String) async throws -> AdminReply {
      await commands.execute(try AdminRequest.parse(line))
    }

    /// Delivers every pending outbox row of both databases to its consumer until none is
    /// left. A row's "offset" is its outbox id; Payments' rows go to partition 0, Points' to 1.
    func settle() async throws {
      while true {
        let fromPayments = try await take(payments.database.storage, partition: 0)
        let fromPoints = try await take(points.database.storage, partition: 1)
        if fromPayments.isEmpty, fromPoints.isEmpty { return }
        for message in fromPayments + fromPoints { try await deliver(message) }
      }
    }

    /// Points handles `message` again under a new event id: the sweeper's re-announcement.
    func reannounce(_ message: InboundMessage, offset: Int64) async throws {
      var headers = message.headers.filter { $0.name != HeaderName.eventId }
      headers.append(RecordHeader(name: HeaderName.eventId, value: UUID().uuidString.lowercased()))
      try await deliver(
        InboundMessage(
          topic: message.topic, partition: message.partition, offset: offset, key: message.key, value: message.value,
          headers: headers))
    }

    /// The ReservationCompleted Payments wrote for `paymentId`, as Points received it.
    func reservationCompleted(_ paymentId: Int64) async throws -> InboundMessage {
      // The envelope's seven columns, then the extra headers' [name, value] pairs.
      let found = try await payments.database.read { db -> (Int64, Data, String, String)? in
        try db.query(
          """
          SELECT id, payload, json_array(event_id, event_type, event_version, traceparent, correlation_id,
                                         producer, occurred_at) AS envelope, extra_headers
          FROM outbox WHERE topic = ? AND message_key = ?
          """, [SagaTopic.reservationCompleted.rawValue, String(paymentId)]
        ).first.map { row in (row["id"], row["payload"], row["envelope"], row["extra_headers"]) }
      }
      let (id, payload, envelope, extras) = try #require(found)
      let values = try JSONDecoder().decode([String].self, from: Data(envelope.utf8))
      let pairs = try JSONDecoder().decode([[String]].self, from: Data(extras.utf8))
      return InboundMessage(
        topic: SagaTopic.reservationCompleted.rawValue, partition: 0, offset: id, key: Array(String(paymentId).utf8),
        value: Array(payload),
        headers: zip(HeaderName.envelope, values).map { RecordHeader(name: $0, value: $1) }
          + pairs.map { RecordHeader(name: $0[0], value: $0[1]) })
    }

    private func take(_ database: SagaDatabase, partition: Int32) async throws -> [InboundMessage] {
      try await database.write { db in
        let records = try Outbox.pending(limit: 1000, in: db)
        try Outbox.markSent(ids: records.map(\.id), in: db)
        return records.map { record in
          InboundMessage(
            topic: record.message.topic, partition: partition, offset: record.id,
            key: record.message.key.map { Array($0.utf8) }, value: record.message.payload,
            headers: record.message.headers)
        }
      }
    }

    func deliver(_ message: InboundMessage) async throws {
      try await InProcessDelivery.deliver(message, payments: payments, points: points)
    }
  }

  /// Every line of a reply, the body's and the final one's.
  private static func all(_ reply: AdminReply) -> String {
    reply.lines.map(\.text).joined(separator: "\n")
  }

  private static func saga(_ reply: AdminReply) throws -> AdminJSON.Saga {
    try JSONDecoder().decode(AdminJSON.Saga.self, from: Data(try #require(reply.json).utf8))
  }

  @Test("saga: Points' received, decided and published steps merged with Payments' in time order")
  func timelineAcrossServices() async throws {
    let rig = try Rig()
    try await rig.payments.addUser(id: 1, initialBalance: 100_000)
    try await rig.points.enroll(userId: 1)
    try await rig.payments.addUser(id: 2, initialBalance: 100_000)  // never enrolled in Points
    let rewarded = try await rig.payments.pay(PayRequest(userId: 1, scheduleId: 1, seat: nil, amount: 50_000))
    let refunded = try await rig.payments.pay(PayRequest(userId: 2, scheduleId: 1, seat: nil, amount: 20_000))
    try await rig.settle()
    let announced = try await rig.reservationCompleted(rewarded.paymentId)
    try await rig.reannounce(announced, offset: 999)
    try await rig.settle()

    let document = try Self.saga(try await rig.run("saga \(rewarded.paymentId) --json"))
    let steps = document.steps.map { "\($0.service) \($0.step)" }
    #expect(
      steps == [
        "payments payment-accepted", "points reward-recorded", "points published", "payments reward-completed",
        "points re-announcement-answered", "points published", "payments late-event-ignored",
      ], "\(steps)")
    let received = try #require(document.steps.first { $0.step == "reward-recorded" })
    #expect(received.topic == SagaTopic.reservationCompleted.rawValue)
    #expect(received.partition == 0 && received.offset == announced.offset)
    #expect(received.eventId == announced.envelope.eventId?.lowercasedText)
    #expect(received.outcome.contains("5000 points credited"), "\(received.outcome)")
    let published = try #require(document.steps.first { $0.step == "published" })
    #expect(published.topic == SagaTopic.pointRewardCompleted.rawValue && published.outcome.contains("sent"))
    let answered = try #require(document.steps.first { $0.step == "re-announcement-answered" })
    #expect(answered.offset == 999)
    #expect(document.steps.map(\.at) == document.steps.map(\.at).sorted())

    let failed = try await rig.run("saga \(refunded.paymentId)")
    #expect(failed.code == .ok)
    for expected in [
      "reward-failure-recorded", "user-not-enrolled", "PointRewardFailed sent", "CompensatePayment sent",
      "reward-failed", "compensation-refunded",
    ] {
      #expect(Self.all(failed).contains(expected), "\(expected) missing:\n\(Self.all(failed))")
    }
    #expect(Self.all(failed).contains("SERVICE"))

    // A Points-only sagad shows its own side; an unknown payment is 8003 either way.
    let pointsOnly = AdminCommands(version: "9.9.9", roles: ["points"], payments: nil, points: rig.points, pay: nil)
    let alone = try Self.saga(
      await pointsOnly.execute(try AdminRequest.parse("saga \(rewarded.paymentId) --json")))
    #expect(alone.steps.allSatisfy { $0.service == "points" } && alone.steps.count == 4)
    #expect(await pointsOnly.execute(try AdminRequest.parse("saga 4242")).code == .notFound)
    #expect(try await rig.run("saga 4242").code == .notFound)
  }

  @Test("verify: a reward row for a REFUNDED payment, a wrong or missing reward for a REWARDED one are violations")
  func crossDatabaseChecks() async throws {
    let rig = try Rig()
    try await rig.payments.addUser(id: 1, initialBalance: 100_000)
    try await rig.points.enroll(userId: 1)
    try await rig.payments.addUser(id: 2, initialBalance: 100_000)
    let rewarded = try await rig.payments.pay(PayRequest(userId: 1, scheduleId: 1, seat: nil, amount: 50_000))
    try await rig.settle()
    // Refunded without Points ever hearing of it (its ReservationCompleted lost, a
    // CompensatePayment from elsewhere): Points holds no failure record that its own check
    // could set a hand-made reward against, so only the check across databases sees one.
    let refunded = try await rig.payments.pay(PayRequest(userId: 2, scheduleId: 1, seat: nil, amount: 20_000))
    try await rig.payments.database.write { db in
      _ = try Outbox.markSent(ids: try Outbox.pending(limit: 100, in: db).map(\.id), in: db)
    }
    let compensate = CompensatePayment(
      paymentId: refunded.paymentId, userId: 2, refundAmount: 20_000, reason: "refunded by hand")
    try await rig.deliver(
      InboundMessage(
        topic: SagaTopic.compensatePayment.rawValue, partition: 0, offset: 1, key: nil,
        value: EventCodec.encode(compensate),
        headers: EventEnvelope(eventType: .compensatePayment, trace: .start()).headers))
    #expect(try await rig.payments.payment(id: rewarded.paymentId)?.status == .rewarded)
    #expect(try await rig.payments.payment(id: refunded.paymentId)?.status == .refunded)
    let clean = try await rig.run("verify")
    #expect(clean.code == .ok, "\(clean.text)")
    #expect(clean.text.contains("across both"))

    // A reward for the refunded payment, inserted by hand with its balance, so Points'
    // own ledger check still passes: only the cross-database check can see it.
    try await rig.points.enroll(userId: 2)
    try await rig.points.database.write { db in
      try db.execute(
        """
        INSERT INTO point_ledger (user_id, payment_id, reservation_id, paid_amount, amount, created_at)
        VALUES (2, ?, ?, 20000, 2000, 0)
        """, [refunded.paymentId, refunded.reservationId])
      try db.execute("UPDATE point_accounts SET balance = balance + 2000 WHERE user_id = 2")
    }
    #expect(try await rig.points.verify().isEmpty)
    #expect(try await rig.payments.verify().isEmpty)
    let json = try await rig.run("verify --json")
    #expect(json.code == .verifyFailed)
    let document = try JSONDecoder().decode(AdminJSON.Verify.self, from: Data(try #require(json.json).utf8))
    #expect(!document.ok)
    #expect(
      document.violations == [
        "saga: payment \(refunded.paymentId) (REFUNDED): 1 rewards (2000 points) in Points' ledger, expected none"
      ])

    // The rewarded payment's reward changed by hand (balance kept in step): not the rule's amount.
    try await rig.points.database.write { db in
      try db.execute("UPDATE point_ledger SET amount = 4000 WHERE payment_id = ?", [rewarded.paymentId])
      try db.execute("UPDATE point_accounts SET balance = balance - 1000 WHERE user_id = 1")
    }
    let wrong = try await rig.run("verify")
    #expect(wrong.code == .verifyFailed)
    #expect(
      Self.all(wrong).contains(
        "reward of 4000 points for payment \(rewarded.paymentId) (user 1, paid 50000 KRW): the rule"))
    #expect(Self.all(wrong).contains("Payments recorded a reward of 5000 points, Points' ledger has 4000"))

    // And gone altogether.
    try await rig.points.database.write { db in
      try db.execute("DELETE FROM point_ledger WHERE payment_id = ?", [rewarded.paymentId])
      try db.execute("UPDATE point_accounts SET balance = balance - 4000 WHERE user_id = 1")
    }
    let missing = try await rig.run("verify")
    #expect(
      Self.all(missing).contains("payment \(rewarded.paymentId) (REWARDED): 0 rewards in Points' ledger, expected 1"))

    // With one role only, the cross-database checks cannot run and are not claimed.
    let paymentsOnly = AdminCommands(
      version: "9.9.9", roles: ["payments"], payments: rig.payments, points: nil, pay: nil)
    let alone = await paymentsOnly.execute(try AdminRequest.parse("verify"))
    #expect(alone.code == .ok && !alone.text.contains("across both"), "\(alone.text)")
  }

  @Test("verify: rewards minted by forged ReservationCompleted events (no such payment, another amount) are caught")
  func forgedRewards() async throws {
    let rig = try Rig()
    try await rig.payments.addUser(id: 1, initialBalance: 100_000)
    try await rig.points.enroll(userId: 1)
    let real = try await rig.payments.pay(PayRequest(userId: 1, scheduleId: 1, seat: nil, amount: 50_000))
    try await rig.settle()
    #expect(try await rig.run("verify").code == .ok)
    // Well-formed events nobody paid for: Points credits them (each balance adds up), only the
    // comparison with Payments can tell.
    for (offset, (payment, paid)) in [(Int64(9_001), Int64(10_000_000_000_000)), (real.paymentId, 900_000)].enumerated()
    {
      let forged = ReservationCompleted(paymentId: payment, userId: 1, reservationId: 77, paidAmount: paid)
      try await rig.deliver(
        InboundMessage(
          topic: SagaTopic.reservationCompleted.rawValue, partition: 2, offset: Int64(100 + offset), key: nil,
          value: EventCodec.encode(forged), headers: []))
    }
    #expect(try await rig.points.verify().isEmpty, "Points' own ledger adds up")
    let reply = try await rig.run("verify")
    #expect(reply.code == .verifyFailed)
    let text = Self.all(reply)
    #expect(text.contains("payment 9001 (user 1, paid 10000000000000 KRW): Payments has no such payment"), "\(text)")
    // The second copy for the real payment is a duplicate (one reward per user and payment):
    // what Points decided first stands, and it matches.
    #expect(!text.contains("payment \(real.paymentId) (user 1"), "\(text)")

    // With Points alone: a reward that is not the rule's amount for its own paidAmount.
    try await rig.points.database.write { db in
      try db.execute("UPDATE point_ledger SET amount = amount + 100 WHERE payment_id = 9001")
      try db.execute("UPDATE point_accounts SET balance = balance + 100 WHERE user_id = 1")
    }
    let pointsOnly = AdminCommands(version: "9.9.9", roles: ["points"], payments: nil, points: rig.points, pay: nil)
    let alone = await pointsOnly.execute(try AdminRequest.parse("verify"))
    #expect(alone.code == .verifyFailed)
    #expect(Self.all(alone).contains("reward of 1000000000100 points for payment 9001"), "\(Self.all(alone))")
  }

  @Test("verify: sagas without an outcome past sweeper.stuck_after are warnings, not violations")
  func unfinishedSagaWarnings() async throws {
    var rig = try Rig()
    try await rig.payments.addUser(id: 1, initialBalance: 100_000)
    let paid = try await rig.payments.pay(PayRequest(userId: 1, scheduleId: 1, seat: nil, amount: 50_000))
    // Within the default 60 s: nothing to say.
    let fresh = try await rig.run("verify --json")
    #expect(try JSONDecoder().decode(AdminJSON.Verify.self, from: Data(try #require(fresh.json).utf8)).warnings == [])

    rig.commands.stuckAfter = { .zero }
    let reply = try await rig.run("verify")
    #expect(reply.code == .ok, "\(reply.text)")
    #expect(reply.text.contains("1 warning"))
    #expect(
      Self.all(reply).contains("warning: payments: payment \(paid.paymentId) is still PAID after"), "\(Self.all(reply))"
    )
    let json = try await rig.run("verify --json")
    #expect(json.code == .ok)
    let document = try JSONDecoder().decode(AdminJSON.Verify.self, from: Data(try #require(json.json).utf8))
    #expect(document.ok && document.violations.isEmpty)
    #expect(document.warnings.count == 1 && document.warnings[0].contains("sweeper.stuck_after is 0s"))

    // Once the saga ends, the warning goes.
    try await rig.points.enroll(userId: 1)
    try await rig.settle()
    let done = try await rig.run("verify --json")
    #expect(try JSONDecoder().decode(AdminJSON.Verify.self, from: Data(try #require(done.json).utf8)).warnings == [])
  }
}
