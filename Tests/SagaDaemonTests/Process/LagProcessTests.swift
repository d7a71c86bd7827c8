import AdminProtocol
import Foundation
import SagaCore
import SagaTestSupport
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// `lag` and `kafka_consumer_lag` on live sagad processes: a consumer wedged while records
/// keep arriving is judged ERR; with split roles, the Payments sagad reports the lag of a
/// Points that is down, and the shipped `HighConsumerLag` rule goes pending on it.
@Suite("sagad lag status", .timeLimit(.minutes(3)))
struct LagProcessTests {
  @Test("a wedged consumer whose lag grows at every sample while nothing is committed is ERR; it recovers to OK")
  func wedgedConsumerIsErr() async throws {
    let dev = try DevDaemon(environment: [
      "SAGAD_METRICS_LISTEN": "127.0.0.1:0", "SAGAD_KAFKA_STATISTICS_INTERVAL": "400ms", "SAGAD_LAG_WINDOW": "3",
    ])
    let (daemon, socket) = (dev.process, dev.socket)
    defer { daemon.killIfRunning() }
    do {
      let client = try await connectAdmin(socket, of: daemon)
      func lag() async throws -> AdminJSON.Lag {
        let reply = try await client.send("lag --json")
        return try JSONDecoder().decode(AdminJSON.Lag.self, from: Data(try #require(reply.json).utf8))
      }
      #expect(try await client.send("user add 1 --balance 100000000").code == .ok)
      #expect(try await client.send("pay --user 1 --schedule 1 --amount 100").code == .ok)
      try await eventually("the first saga's reward to be committed") {
        try await lag().partitions.contains { $0.group == "points-service" && $0.committed != nil }
      }
      // The next commit of a worker (the points worker's, for the next payment) takes 20 s: long
      // enough for three samples to see the lag grow on a machine busy with other tests.
      #expect(try await client.send("failpoint set db.commit 'delay(20000)' --count 1").code == .ok)
      var schedule: Int64 = 2
      var judged: AdminJSON.Lag?
      try await eventually("lag to turn ERR for points-service", timeout: .seconds(20)) {
        // Keep ReservationCompleted coming, so every partition's high watermark grows.
        for _ in 0..<3 {
          _ = try await client.send("pay --user 1 --schedule \(schedule) --amount 100")
          schedule += 1
        }
        judged = try await lag()
        return judged?.partitions.contains { $0.group == "points-service" && $0.status == "ERR" } == true
      }
      #expect(judged?.status == "ERR")
      try await eventually("the consumer to catch up and lag to be OK again", timeout: .seconds(45)) {
        let now = try await lag()
        return now.status == "OK" && now.partitions.allSatisfy { ($0.lag ?? 0) == 0 }
      }
      daemon.signal(SIGTERM)
      #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 0)
    } catch {
      Issue.record("sagad stderr:\n\(daemon.stderr.text.suffix(4000))")
      throw error
    }
  }

  /// One `sagad --config` of a split-roles pair on `broker`: statistics (so lag samples)
  /// every 500 ms, and a sweeper that re-announces nothing during the test, so that every
  /// record on `reservation-completed` is a payment the test made.
  struct SplitNode {
    let directory: TemporaryDirectory
    var socket: String { directory.path + "/sagad.sock" }
    var config: String { directory.path + "/sagad.yaml" }

    init(role: String, broker: String) throws {
      directory = try TemporaryDirectory()
      try """
      roles: [\(role)]
      kafka:
        brokers: "\(broker)"
        statistics_interval: 500ms
        consumer:
          session.timeout.ms: 6000
          heartbeat.interval.ms: 500
      state_dir: "\(directory.path)"
      sweeper:
        stuck_after: 1h
      admin:
        socket: "\(socket)"
      log:
        level: warning
      metrics:
        listen: "127.0.0.1:0"
      """.write(toFile: config, atomically: true, encoding: .utf8)
    }

    /// `environment` adds to the test's own (tracing, OpenTelemetry variables).
    func start(environment: [String: String?] = [:]) async throws -> ChildProcess {
      let child = try ChildProcess(
        try sagadBinary(), ["--config", config], pipeStdin: false, environment: environment)
      do {
        try await waitForAdminSocket(socket, of: child)
      } catch {
        child.killIfRunning()
        throw error
      }
      return child
    }

    func scrape() async throws -> String {
      let address = try String(contentsOfFile: directory.path + "/metrics-address", encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines)
      let url = try #require(URL(string: "http://\(address)/metrics"))
      let (data, _) = try await URLSession.shared.data(from: url)
      return String(decoding: data, as: UTF8.self)
    }
  }

  /// The `kafka_consumer_lag` samples of a scrape on `topic`: labels as scraped, and value.
  static func lagSamples(_ scrape: String, topic: String) -> [(labels: String, value: Double)] {
    scrape.split(separator: "\n").compactMap { line in
      guard line.hasPrefix("kafka_consumer_lag{"), line.contains("topic=\"\(topic)\""),
        let close = line.lastIndex(of: "}"),
        let value = Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces))
      else { return nil }
      return (String(line[line.index(line.startIndex, offsetBy: "kafka_consumer_lag{".count)..<close]), value)
    }
  }

  @Test(
    "split roles, Points killed: the Payments sagad's kafka_consumer_lag counts the payments since; HighConsumerLag goes pending"
  )
  func partnerLagWithPointsDown() async throws {
    // Two partitions: the 240 payments put at least 120 on one, above the rule's 100.
    let payments = 240
    let broker = try await DevBrokerProcess.start(["--partitions", "2"])
    defer { broker.cleanUp() }
    let pair = try await SplitPair.start(broker: broker.bootstrap)
    defer { pair.stop() }
    let (paymentsNode, pointsNode) = (pair.payments, pair.points)
    let (paymentsDaemon, pointsDaemon) = (pair.paymentsDaemon, pair.pointsDaemon)
    do {
      let client = try await connectAdmin(paymentsNode.socket, of: paymentsDaemon)
      let pointsClient = try await connectAdmin(pointsNode.socket, of: pointsDaemon)
      #expect(try await client.send("user add 1 --balance 100000000 --no-points").code == .ok)
      #expect(try await pointsClient.send("user add 1").code == .ok)
      pointsClient.close()
      // The saga flows across the two processes, and Points commits what it consumed.
      #expect(try await client.send("pay --user 1 --schedule 1 --amount 1000").code == .ok)
      try await eventually("payment 1 to be rewarded", timeout: .seconds(60)) {
        try decodeReply(AdminJSON.Payment.self, try await client.send("payment 1 --json")).status == "REWARDED"
      }
      let topic = SagaTopic.reservationCompleted.rawValue
      try await eventually("the Payments sagad to report points-service at 0 on both partitions", timeout: .seconds(30))
      {
        let samples = Self.lagSamples(try await paymentsNode.scrape(), topic: topic)
        return samples.count == 2 && samples.allSatisfy { $0.value == 0 }
      }

      pointsDaemon.signal(SIGKILL)
      try await eventually("the Points sagad (pid \(pointsDaemon.pid)) to die") { !pointsDaemon.isRunning }
      for schedule in 2...(payments + 1) {
        let reply = try await client.send("pay --user 1 --schedule \(schedule) --amount 1000")
        #expect(reply.code == .ok, "pay \(schedule): \(reply.lines.map(\.description))")
      }
      var samples: [(labels: String, value: Double)] = []
      try await eventually("kafka_consumer_lag on \(topic) to sum to \(payments)", timeout: .seconds(30)) {
        samples = Self.lagSamples(try await paymentsNode.scrape(), topic: topic)
        return samples.reduce(0) { $0 + $1.value } == Double(payments)
      }
      #expect(samples.count == 2)
      #expect(samples.allSatisfy { $0.labels.contains("group=\"points-service\"") }, "\(samples)")
      let lag = try decodeReply(AdminJSON.Lag.self, try await client.send("lag --json"))
      let partner = lag.partitions.filter { $0.group == "points-service" }
      #expect(partner.count == 2 && partner.allSatisfy { $0.role == "partner" && $0.consumer == "none" })
      // Payment 1's partition has Points' commit; the other may have none (Points never got a
      // record there), and then counts from the log start, which adds up the same.
      #expect(partner.contains { !$0.neverCommitted } && partner.allSatisfy { $0.source == "broker" })
      #expect(partner.compactMap(\.lag).reduce(0, +) == Int64(payments))

      try await Self.expectPending(samples)
      client.close()
      paymentsDaemon.signal(SIGTERM)
      #expect(try await paymentsDaemon.waitForExit(timeout: .seconds(30)) == 0)
    } catch {
      Issue.record("\(pair.stderr)")
      throw error
    }
  }

  /// Has promtool evaluate the shipped rule file on `samples`, held constant as one target's
  /// scrapes: `HighConsumerLag` must be pending after a minute, for exactly the partitions
  /// above 100, and firing after its `for: 5m`.
  static func expectPending(_ samples: [(labels: String, value: Double)]) async throws {
    let target = #"job="sagad",instance="payments:9464""#
    let above = samples.filter { $0.value > 100 }
    try #require(!above.isEmpty, "no partition above the rule's threshold: \(samples)")
    func alerts(_ state: String) -> String {
      above.map { sample in
        """
                  - labels: 'ALERTS{alertname="HighConsumerLag",alertstate="\(state)",severity="warning",\(target),\(sample.labels)}'
                    value: 1

        """
      }.joined()
    }
    let rules = MetricsEndpointTests.repository.appendingPathComponent("prometheus/sagad.rules.yml").path
    let input = samples.map { sample in
      """
            - series: 'kafka_consumer_lag{\(target),\(sample.labels)}'
              values: '\(Int(sample.value))x10'

      """
    }.joined()
    let test = """
      rule_files:
        - \(rules)
      evaluation_interval: 1m
      tests:
        - interval: 1m
          input_series:
      \(input)
          promql_expr_test:
            - expr: ALERTS{alertname="HighConsumerLag"}
              eval_time: 1m
              exp_samples:
      \(alerts("pending"))
            - expr: ALERTS{alertname="HighConsumerLag"}
              eval_time: 6m
              exp_samples:
      \(alerts("firing"))
      """
    let directory = try TemporaryDirectory()
    let file = directory.path + "/scrape.test.yml"
    try test.write(toFile: file, atomically: true, encoding: .utf8)
    let result = try await run(try requiredTool("promtool"), ["test", "rules", file], timeout: .seconds(60))
    #expect(result.status == 0, "promtool test rules:\n\(result.stdout)\(result.stderr)\n\(test)")
  }
}
