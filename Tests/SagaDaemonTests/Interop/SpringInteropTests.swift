import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// sagad beside the report's Spring services, one role each way, through real processes on the
/// dev broker. The other side is `Tests/Peers/spring_peer.py`, which follows Spring Kafka's
/// rules: it cannot read a record without a known `__TypeId__`, sends no key, no sagad header
/// and no `eventVersion`, and deduplicates nothing.
@Suite("sagad beside the Spring services", .timeLimit(.minutes(3)))
struct SpringInteropTests {
  static let package = "com.example.concert.shared.domain.event"

  @Test("sagad Points beside Spring Payments: reward, compensation, and a duplicate that refunds nothing twice")
  func pointsBesideSpringPayments() async throws {
    let setup = try await ConfiguredDaemon.make(
      extra: """
        roles: [points]
        peers:
          payments: spring
        """)
    defer { setup.cleanUp() }
    let daemon = try await setup.start()
    defer { daemon.killIfRunning() }
    let peer = try await SpringPeerProcess.start(.payments, bootstrap: setup.broker.bootstrap)
    defer { peer.child.killIfRunning() }
    do {
      let admin = try await connectAdmin(setup.socket, of: daemon)
      #expect(try await admin.send("user add 1").code == .ok)

      // Reward: the peer's ReservationCompleted (no key, no headers but __TypeId__) is credited.
      try peer.send("pay 1 50000")
      try await eventually("user 1's reward of 5000 points") {
        try await Self.balance(1, admin).points == 5000
      }

      // Compensation: user 2 has no point account; the peer refunds on sagad's CompensatePayment.
      try peer.send("pay 2 30000")
      try await peer.waitFor("the refund of payment 2") { $0["event"] as? String == "refunded" }

      // The same event again (Spring re-sends it as a new record): Points answers the duplicate
      // with PointRewardFailed only; a second CompensatePayment would be a second refund there.
      try peer.send("resend 2")
      try await eventually("PointRewardFailed of payment 2 twice on the wire") {
        try await Self.records("point-reward-failed", bootstrap: setup.broker.bootstrap).count == 2
      }
      let compensations = try await Self.records("compensate-payment", bootstrap: setup.broker.bootstrap)
      #expect(compensations.count == 1, "\(compensations)")
      #expect(peer.events("refunded").count == 1)

      // Every record sagad wrote names its Java class; the peer read all of them.
      for topic in ["point-reward-completed", "point-reward-failed", "compensate-payment"] {
        for record in try await Self.records(topic, bootstrap: setup.broker.bootstrap) {
          #expect(record.headers.contains("__TypeId__=\(Self.package).\(Self.className(topic))"), "\(record)")
        }
      }
      #expect(peer.poisonPills.isEmpty, "\(peer.poisonPills)")
      try await peer.stop()
    } catch {
      Issue.record("sagad stderr:\n\(daemon.stderr.text.suffix(3000))\npeer:\n\(peer.child.stdout.text.suffix(3000))")
      throw error
    }
  }

  @Test(
    "sagad Payments beside Spring Points: reward, ten-copy failure loop refunded once, stuck saga never re-announced"
  )
  func paymentsBesideSpringPoints() async throws {
    let setup = try await ConfiguredDaemon.make(
      extra: """
        roles: [payments]
        peers:
          points: spring
        sweeper:
          stuck_after: 2s
          interval: 200ms
        """)
    defer { setup.cleanUp() }
    let daemon = try await setup.start()
    defer { daemon.killIfRunning() }
    var peer = try await SpringPeerProcess.start(.points, bootstrap: setup.broker.bootstrap, enrolled: [1])
    defer { peer.child.killIfRunning() }
    do {
      let admin = try await connectAdmin(setup.socket, of: daemon)
      func payment(_ id: Int) async throws -> AdminJSON.Payment {
        let reply = try await admin.send("payment \(id) --json")
        return try JSONDecoder().decode(AdminJSON.Payment.self, from: Data(try #require(reply.json).utf8))
      }
      #expect(try await admin.send("user add 1 --balance 100000").code == .ok)
      #expect(try await admin.send("user add 2 --balance 100000").code == .ok)

      // Reward: the peer's PointRewardCompleted has no paymentId; sagad correlates by reservation.
      #expect(try await admin.send("pay --user 1 --schedule 1 --amount 50000").code == .ok)
      try await eventually("payment 1 REWARDED") { try await payment(1).status == "REWARDED" }

      // The peer fails user 2 and, catching and rethrowing, sends both events ten times
      // (PointRewardFailed with "reason": null). One refund; the copies count apart.
      #expect(try await admin.send("pay --user 2 --schedule 1 --amount 30000").code == .ok)
      try await peer.waitFor("the tenth failed run", timeout: .seconds(60)) {
        $0["event"] as? String == "reward-failed" && $0["run"] as? Int == 10
      }
      let metrics = try String(contentsOfFile: setup.directory.path + "/metrics-address", encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines)
      try await eventually("nine redelivered compensations counted apart") {
        try await Self.metric("sagad_compensation_redeliveries_total", at: metrics) == 9
      }
      #expect(try await Self.metric("compensate_payment_total{result=\"refunded\"}", at: metrics) == 1)
      #expect(try await Self.metric("compensate_payment_total{result=\"failed\"}", at: metrics) == 0)
      // The ten PointRewardFailed copies ("reason": null) are read, none dead-lettered.
      let tracker = #"worker="payments-saga-tracker",topic="point-reward-failed""#
      try await eventually("the tracker to have read ten PointRewardFailed") {
        try await Self.metricSum("sagad_events_processed_total", matching: tracker, at: metrics) == 10
      }
      #expect(
        try await Self.metricSum(
          "sagad_events_processed_total", matching: tracker + #",result="dead_lettered""#, at: metrics) == 0)
      #expect(try await payment(2).status == "REFUNDED")
      #expect(try await Self.balance(2, admin).wallet == 100_000)

      // Stuck: the peer is down while user 1 pays again. Toward a peer without idempotency the
      // sweeper reports the saga and never sends ReservationCompleted a second time.
      try await peer.stop()
      #expect(try await admin.send("pay --user 1 --schedule 2 --amount 20000").code == .ok)
      var listed: AdminJSON.StuckSaga?
      try await eventually("payment 3 listed by `stuck`", timeout: .seconds(30)) {
        let reply = try await admin.send("stuck --json")
        let stuck = try JSONDecoder().decode(AdminJSON.Stuck.self, from: Data(try #require(reply.json).utf8))
        listed = stuck.sagas.first { $0.paymentId == 3 }
        return listed != nil
      }
      #expect(listed?.republished == 0)
      #expect(listed?.reason?.contains("peers.points") == true, "\(String(describing: listed))")
      let announced = try await Self.records("reservation-completed", bootstrap: setup.broker.bootstrap)
      #expect(announced.count == 3, "\(announced)")

      // Back up, the peer reads the one announcement: one reward, the saga ends.
      peer = try await SpringPeerProcess.start(.points, bootstrap: setup.broker.bootstrap, enrolled: [1])
      try await eventually("payment 3 REWARDED") { try await payment(3).status == "REWARDED" }
      try peer.send("state")
      let state = try await peer.waitFor("its state") { $0["event"] as? String == "state" }
      #expect((state["rewards"] as? [String: Int])?["3"] == 1, "\(state)")
      #expect(peer.poisonPills.isEmpty, "\(peer.poisonPills)")
      try await peer.stop()
    } catch {
      Issue.record("sagad stderr:\n\(daemon.stderr.text.suffix(3000))\npeer:\n\(peer.child.stdout.text.suffix(3000))")
      throw error
    }
  }

  /// One record as kcat prints it: its headers (`name=value,…`) and body.
  struct Record: CustomStringConvertible {
    var headers: [String]
    var body: String
    var description: String { "\(headers) \(body)" }
  }

  /// Every record of `topic`, read by kcat (an independent client) from the beginning.
  static func records(_ topic: String, bootstrap: String) async throws -> [Record] {
    let result = try await run(
      try requiredTool("kcat"),
      ["-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%h\t%s\n"])
    #expect(result.status == 0, "kcat: \(result.stderr)")
    return result.stdout.split(separator: "\n").map { line in
      let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
      return Record(
        headers: parts[0].split(separator: ",").map(String.init), body: parts.count > 1 ? String(parts[1]) : "")
    }
  }

  static func balance(_ user: Int, _ admin: AdminTestClient) async throws -> AdminJSON.Balance {
    let reply = try await admin.send("balance --user \(user) --json")
    return try JSONDecoder().decode(AdminJSON.Balance.self, from: Data(try #require(reply.json).utf8))
  }

  static func className(_ topic: String) -> String {
    switch topic {
    case "reservation-completed": "ReservationCompletedKafkaEvent"
    case "point-reward-completed": "PointRewardCompletedEvent"
    case "point-reward-failed": "PointRewardFailedEvent"
    default: "CompensatePaymentEvent"
    }
  }

  /// The sum of the series of family `name` whose labels contain `labels`.
  static func metricSum(_ name: String, matching labels: String, at address: String) async throws -> Double {
    let url = try #require(URL(string: "http://\(address)/metrics"))
    let (data, _) = try await URLSession.shared.data(from: url)
    var sum = 0.0
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n")
    where line.hasPrefix(name + "{") && line.contains(labels) {
      sum += line.split(separator: " ").last.flatMap { Double($0) } ?? 0
    }
    return sum
  }

  /// The value of the series `name` (with its labels, as exposed) in a scrape of `address`.
  static func metric(_ series: String, at address: String) async throws -> Double? {
    let url = try #require(URL(string: "http://\(address)/metrics"))
    let (data, _) = try await URLSession.shared.data(from: url)
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix(series + " ") {
      return Double(line.dropFirst(series.count + 1))
    }
    return nil
  }
}
