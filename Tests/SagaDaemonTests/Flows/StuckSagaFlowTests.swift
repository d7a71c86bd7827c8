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

/// The sweeper heals a lost outcome end to end: both services on the embedded cluster,
/// Points' first `PointRewardCompleted` deleted from its outbox before the relay sees it.
@Suite("Stuck saga healed by the sweeper", .timeLimit(.minutes(2)))
struct StuckSagaFlowTests {
  /// Drops the first `point-reward-completed` row Points writes: the outcome is decided and
  /// recorded, but its event never leaves, as if it had been lost on the way.
  private static let loseFirstOutcome = """
    CREATE TABLE test_lost_outcomes (outbox_id INTEGER NOT NULL);
    CREATE TRIGGER test_lose_first_outcome AFTER INSERT ON outbox
    WHEN NEW.topic = 'point-reward-completed' AND NOT EXISTS (SELECT 1 FROM test_lost_outcomes)
    BEGIN
      INSERT INTO test_lost_outcomes VALUES (NEW.id);
      DELETE FROM outbox WHERE id = NEW.id;
    END;
    """

  /// A sweeper quick to call a saga stuck.
  private static func quickSweeper(_ configuration: inout SagaNodeConfiguration) {
    configuration.sweeper = SweeperSettings(
      stuckAfter: .milliseconds(300), interval: .milliseconds(100), maxRepublish: 5)
    // The trigger loses an event by deleting its row as it is written: the relay must read
    // the outbox, not publish the copy its writer hands it (`outbox.handoff`).
    configuration.relay.handoff = false
  }

  private static func loseFirstOutcome(_ harness: SagaHarness) async throws {
    _ = try await harness.points.database.write { db in try db.execute(Self.loseFirstOutcome) }
  }

  @Test(
    "a lost PointRewardCompleted: re-announced with sagad-republished: 1 under the original eventId; REWARDED, one reward"
  )
  func lostOutcomeHeals() async throws {
    try await SagaHarness.run(partitions: 1, configure: Self.quickSweeper, prepare: Self.loseFirstOutcome) { harness in
      let (node, payments, points, cluster) = (harness.node, harness.payments, harness.points, harness.cluster)
      // Pay only once every worker has its partitions, so the re-announcement is about the
      // lost event and not about a consumer still joining its group.
      try await eventually("the consume workers to be assigned", timeout: .seconds(60)) {
        node.workers.allSatisfy { !$0.assignment.isEmpty }
      }
      try await payments.addUser(id: 1, initialBalance: 100_000)
      _ = try await points.enroll(userId: 1)
      let paid = try await node.pay(PayRequest(userId: 1, scheduleId: 10, seat: "A1", amount: 50_000))

      try await eventually("payment \(paid.paymentId) to be REWARDED", timeout: .seconds(60)) {
        try await payments.payment(id: paid.paymentId)?.status == .rewarded
      }
      let lost = try await points.database.read { db in
        try db.value(Int.self, "SELECT COUNT(*) FROM test_lost_outcomes") ?? 0
      }
      #expect(lost == 1, "the first outcome event was dropped")
      let ledger = try await points.database.read { db in
        try db.value(Int.self, "SELECT COUNT(*) FROM point_ledger") ?? 0
      }
      #expect(ledger == 1, "one reward, however often the saga was announced")
      #expect(try await points.balance(userId: 1) == 5_000)
      let steps = try await payments.steps(paymentId: paid.paymentId).map(\.step)
      #expect(steps.filter { $0 == .rewardCompleted }.count == 1)
      #expect(steps.contains(.republished))
      #expect(try await payments.stuckSagas().isEmpty)

      // On the wire: the original announcement, then the re-announcement under a new id.
      let read = try await run(
        try requiredTool("kcat"),
        [
          "-C", "-b", cluster.bootstrapServers, "-t", SagaTopic.reservationCompleted.rawValue, "-o", "beginning",
          "-e", "-q", "-f", "%h\n",
        ])
      let messages = read.stdout.split(separator: "\n").map { line in
        Dictionary(
          line.split(separator: ",").map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
          }, uniquingKeysWith: { first, _ in first })
      }
      try #require(messages.count >= 2, "\(read.stdout)\(read.stderr)")
      #expect(messages[0][HeaderName.republished] == nil)
      let again = try #require(messages.first { $0[HeaderName.republished] == "1" })
      // Same event id; sagad's inbox still hands the copy to Points (keyed with sagad-republished),
      // which answers it with the recorded outcome.
      #expect(again[HeaderName.eventId] == messages[0][HeaderName.eventId])
      #expect(again[HeaderName.correlationId] == paid.correlationId)
      #expect(again[HeaderName.traceparent] == messages[0][HeaderName.traceparent])
      #expect(try await payments.verify().isEmpty)
      #expect(try await points.verify().isEmpty)
    }
  }
}
