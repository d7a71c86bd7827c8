import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

@testable import SagaDaemon

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// `GET /metrics`, `/healthz` and `/readyz` of a `sagad --dev` process (Docs/metrics.md):
/// a live scrape after traffic down every path passes `promtool check metrics` and holds
/// every metric the shipped rules and dashboard use; consumer lag follows a paused Points.
@Suite("metrics endpoint of a live sagad", .timeLimit(.minutes(2)))
struct MetricsEndpointTests {
  /// A `sagad --dev` child with `metrics.listen` on port 0 and 1 s statistics.
  final class Daemon: Sendable {
    let dev: DevDaemon
    let metricsAddress: String
    let bootstrap: String
    var process: ChildProcess { dev.process }
    var socket: String { dev.socket }

    init() async throws {
      let dev = try DevDaemon(
        environment: ["SAGAD_METRICS_LISTEN": "127.0.0.1:0", "SAGAD_KAFKA_STATISTICS_INTERVAL": "1s"])
      let (process, socket) = (dev.process, dev.socket)
      let addressFile = dev.directory.path + "/metrics-address"
      let bootstrapFile = dev.directory.path + "/bootstrap"
      do {
        try await eventually("sagad's metrics address file and admin socket", timeout: .seconds(60)) {
          guard process.isRunning else { throw TestFailure("sagad exited:\n\(process.stderr.text.suffix(3000))") }
          guard FileManager.default.fileExists(atPath: addressFile),
            FileManager.default.fileExists(atPath: bootstrapFile)
          else { return false }
          return (try? await AdminTestClient.connect(socket, timeout: .seconds(5))) != nil
        }
        func read(_ path: String) throws -> String {
          try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        metricsAddress = try read(addressFile)
        bootstrap = try read(bootstrapFile)
      } catch {
        process.killIfRunning()
        throw error
      }
      self.dev = dev
    }

    func get(_ path: String) async throws -> (status: Int, body: String) {
      let url = try #require(URL(string: "http://\(metricsAddress)\(path)"))
      let (data, response) = try await URLSession.shared.data(from: url)
      return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    func scrape() async throws -> String {
      let (status, body) = try await get("/metrics")
      #expect(status == 200)
      return body
    }

    /// Sends `lines` over one admin connection; fails the test unless every reply is `ok`.
    func admin(_ lines: String...) async throws { try await admin(lines) }

    func admin(_ lines: [String]) async throws {
      let client = try await AdminTestClient.connect(socket)
      for line in lines {
        let reply = try await client.send(line)
        #expect(reply.code == .ok, "\(line): \(reply.lines)")
      }
    }

    func stop() { process.killIfRunning() }
  }

  /// The value of the sample `series` (name and labels exactly as scraped), 0 when absent.
  static func value(_ series: String, in scrape: String) -> Double {
    for line in scrape.split(separator: "\n") where line.hasPrefix(series + " ") {
      return Double(line.split(separator: " ").last ?? "") ?? 0
    }
    return 0
  }

  /// The sum of every sample of `name` whose labels include all of `labels`.
  static func sum(_ name: String, _ labels: [String] = [], in scrape: String) -> Double {
    scrape.split(separator: "\n").filter { line in
      (line.hasPrefix(name + "{") || line.hasPrefix(name + " ")) && labels.allSatisfy { line.contains($0) }
    }.reduce(0) { $0 + (Double($1.split(separator: " ").last ?? "") ?? 0) }
  }

  /// The repository root, from this file's path.
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
    .deletingLastPathComponent()

  /// Every PromQL expression of the shipped rules (`prometheus/*.yml`, tests excluded) and
  /// dashboards (`grafana/dashboards/*.json`), with its file.
  static func shippedExpressions() throws -> [(file: String, expression: String)] {
    var expressions: [(String, String)] = []
    let fileManager = FileManager.default
    let rules = repository.appendingPathComponent("prometheus")
    for file in (try? fileManager.contentsOfDirectory(atPath: rules.path)) ?? []
    where file.hasSuffix(".yml") && !file.contains(".test.") {
      let text = try String(contentsOf: rules.appendingPathComponent(file), encoding: .utf8)
      expressions += MetricNameScanner.ruleExpressions(inYAML: text).map { ("prometheus/\(file)", $0) }
    }
    let dashboards = repository.appendingPathComponent("grafana/dashboards")
    for file in (try? fileManager.contentsOfDirectory(atPath: dashboards.path)) ?? [] where file.hasSuffix(".json") {
      let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dashboards.appendingPathComponent(file)))
      expressions += MetricNameScanner.dashboardExpressions(json).map { ("grafana/dashboards/\(file)", $0) }
    }
    return expressions
  }

  @Test("metrics.listen: host:port with port 0, or off and \"\" to turn the endpoint off")
  func listenSetting() async throws {
    let ephemeral = try await DaemonConfiguration.load(
      file: nil, dev: true, environment: ["SAGAD_METRICS_LISTEN": "0.0.0.0:0"])
    #expect(ephemeral.metrics == MetricsSettings(host: "0.0.0.0", port: 0, enabled: true))
    let directory = try TemporaryDirectory()
    let file = directory.path + "/sagad.yaml"
    try "kafka:\n  brokers: localhost:9092\n".write(toFile: file, atomically: true, encoding: .utf8)
    let standard = try await DaemonConfiguration.load(file: file, dev: false, environment: [:])
    #expect(standard.metrics == MetricsSettings(host: "127.0.0.1", port: 9464, enabled: true))
    let dev = try await DaemonConfiguration.load(file: nil, dev: true, environment: [:])
    #expect(dev.metrics == MetricsSettings(host: "127.0.0.1", port: 0, enabled: true))
    for off in ["off", ""] {
      let disabled = try await DaemonConfiguration.load(
        file: nil, dev: true, environment: ["SAGAD_METRICS_LISTEN": off])
      #expect(!disabled.metrics.enabled, "SAGAD_METRICS_LISTEN=\"\(off)\"")
    }
    await #expect(throws: DaemonConfiguration.Invalid.self) {
      try await DaemonConfiguration.load(file: nil, dev: true, environment: ["SAGAD_METRICS_LISTEN": "9464"])
    }
  }

  @Test("the name scanner finds metric names and skips functions, labels, variables and recording rules")
  func scanner() {
    let expression = #"""
      histogram_quantile(0.95, sum by (le, worker) (rate(sagad_event_processing_seconds_bucket{job=~"$job"}[$__rate_interval])))
      > 5 and on (instance) sagad:reward:ratio_rate5m < bool 1 or absent(up{job="sagad"}) unless label_values(sagad_build_info, instance)
      """#
    #expect(
      MetricNameScanner.names(in: expression) == ["sagad_event_processing_seconds_bucket", "sagad_build_info"])
    let yaml = """
      groups:
        - name: x
          rules:
            - alert: A
              expr: kafka_consumer_lag{topic="reservation-completed"} > 100
            - record: r:x
              expr: |
                sum(rate(compensate_payment_total[5m]))
                  / sum(rate(sagad_payments_total[5m]))
              labels: {}
      """
    let selected = MetricNameScanner.matchers(in: #"a_total{result="x",job=~"$job",state=~"p|q"}"#)
    #expect(
      selected.map { "\($0.metric) \($0.label) \($0.value)" } == [
        "a_total result x", "a_total state p", "a_total state q",
      ])
    #expect(MetricNameScanner.ruleExpressions(inYAML: "  - expr: 'up{a=\"b\"} == 0'\n") == [#"up{a="b"} == 0"#])
    #expect(
      MetricNameScanner.ruleExpressions(inYAML: yaml).flatMap(MetricNameScanner.names(in:)).sorted() == [
        "compensate_payment_total", "kafka_consumer_lag", "sagad_payments_total",
      ])
  }

  @Test("after rewards, compensations, a duplicate and a dead letter: promtool passes, every shipped name is scraped")
  func liveScrape() async throws {
    let daemon = try await Daemon()
    defer { daemon.stop() }
    let health = try await daemon.get("/healthz")
    #expect(health.status == 200)
    #expect(try await daemon.get("/nope").status == 404)
    try await eventually("/readyz to answer 200", timeout: .seconds(30)) {
      try await daemon.get("/readyz").status == 200
    }

    // Every path: a reward, a compensation (no point account), a duplicate pay, and a
    // record Points cannot read (dead-lettered, then stored by the DLT worker).
    try await daemon.admin("user add 1 --balance 100000")
    try await daemon.admin("user add 2 --balance 100000 --no-points")
    try await daemon.admin("pay --user 1 --schedule 1 --amount 10000")
    try await daemon.admin("pay --user 2 --schedule 1 --amount 10000")
    try await daemon.admin("pay --user 1 --schedule 1 --amount 10000")
    let kcat = try requiredTool("kcat")
    let sent = try await run(
      kcat, ["-P", "-b", daemon.bootstrap, "-t", "reservation-completed", "-k", "1"], input: "this is not JSON\n")
    #expect(sent.status == 0, "kcat -P failed: \(sent.stderr)")

    var scrape = ""
    try await eventually("every path to show in the scrape", timeout: .seconds(60)) {
      scrape = try await daemon.scrape()
      return Self.value(#"sagad_point_rewards_total{result="rewarded"}"#, in: scrape) >= 1
        && Self.value(#"sagad_point_rewards_total{result="failed"}"#, in: scrape) >= 1
        && Self.value(#"compensate_payment_total{result="refunded"}"#, in: scrape) >= 1
        && Self.value(#"sagad_payments_total{result="duplicate"}"#, in: scrape) >= 1
        && Self.sum("sagad_events_processed_total", [#"result="dead_lettered""#], in: scrape) >= 1
        && Self.value(#"sagad_dead_letters_pending{topic="reservation-completed"}"#, in: scrape) >= 1
        && scrape.contains(#"kafka_consumer_lag{group="points-service""#)
        && Self.sum("kafka_consumer_lag", [#"group="points-service""#], in: scrape) == 0
        && Self.sum("sagad_reward_latency_seconds_count", in: scrape) >= 1
    }
    #expect(Self.value(#"sagad_payments_total{result="paid"}"#, in: scrape) == 2)
    #expect(
      Self.sum("sagad_worker_up", in: scrape) == Self.sum("sagad_worker_state", [#"state="running""#], in: scrape))
    #expect(Self.value("sagad_ready", in: scrape) == 1)
    #expect(Self.value("process_resident_memory_bytes", in: scrape) > 0)
    #expect(Self.sum("process_open_fds", in: scrape) > 0)
    #expect(scrape.contains(#"sagad_build_info{version=""#))

    // promtool reads the exposition from stdin; lint problems and parse errors exit non-zero.
    let promtool = try requiredTool("promtool")
    let checked = try await run(promtool, ["check", "metrics"], input: scrape)
    #expect(checked.status == 0, "promtool check metrics:\n\(checked.stdout)\(checked.stderr)")

    let scraped = MetricNameScanner.scrapedNames(scrape)
    let shipped = try Self.shippedExpressions()
    var used: [String: String] = [:]
    for (file, expression) in shipped {
      for name in MetricNameScanner.names(in: expression) { used[name] = file }
    }
    #expect(!used.isEmpty, "no metric names found in prometheus/*.yml and grafana/dashboards/*.json")
    for (name, file) in used.sorted(by: { $0.key < $1.key }) {
      #expect(scraped.contains(name), "\(file) uses \(name), which the live scrape does not have")
    }
    // An exact label value a rule or panel selects must be one sagad exports (a renamed
    // `result` value would leave an alert silently matching nothing).
    let samples = scrape.split(separator: "\n").filter { !$0.hasPrefix("#") }
    for (file, expression) in shipped {
      for (metric, label, value) in MetricNameScanner.matchers(in: expression) where scraped.contains(metric) {
        guard !["job", "instance"].contains(label) else { continue }
        let selected = samples.contains { $0.hasPrefix(metric + "{") && $0.contains("\(label)=\"\(value)\"") }
        #expect(selected, "\(file) selects \(metric){\(label)=\"\(value)\"}, which the live scrape does not have")
      }
    }
  }

  @Test("lag: Points paused while 500 payments are made sums to 500 on reservation-completed; resumed, 0")
  func lagFollowsPausedPoints() async throws {
    let daemon = try await Daemon()
    defer { daemon.stop() }
    // One saga first, so Points holds its partitions (lag is reported for assigned ones).
    try await daemon.admin("user add 1 --balance 100000")
    try await daemon.admin("pay --user 1 --schedule 1 --amount 10000")
    let topic = #"topic="reservation-completed""#
    try await eventually("Points to be assigned and caught up", timeout: .seconds(60)) {
      let scrape = try await daemon.scrape()
      return Self.value(#"sagad_point_rewards_total{result="rewarded"}"#, in: scrape) == 1
        && scrape.components(separatedBy: "kafka_consumer_lag{").count - 1 >= 3
        && Self.sum("kafka_consumer_lag", [topic], in: scrape) == 0
    }
    try await daemon.admin("pause points")
    try await daemon.admin(
      ["user add 2 --balance 100000000"] + (1...500).map { "pay --user 2 --schedule \($0) --amount 1000" })
    var lag = 0.0
    try await eventually("reservation-completed lag to reach 500", timeout: .seconds(30)) {
      lag = Self.sum("kafka_consumer_lag", [topic], in: try await daemon.scrape())
      return lag >= 495
    }
    #expect(abs(lag - 500) <= 5, "lag \(lag)")
    try await daemon.admin("resume points")
    try await eventually("reservation-completed lag back to 0", timeout: .seconds(60)) {
      Self.sum("kafka_consumer_lag", [topic], in: try await daemon.scrape()) == 0
    }
  }
}
