import AdminProtocol
import Foundation
import SagaCore
import SagaTestSupport
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// Traces of live sagas, as an OpenTelemetry collector receives them (Docs/tracing.md): a
/// `sagad --dev` exporting to `Tests/Peers/otlp_receiver.py`, which decodes the OTLP/HTTP
/// requests with OpenTelemetry's own protobuf definitions.
@Suite("traces exported over OTLP", .timeLimit(.minutes(3)))
struct TracingProcessTests {
  private typealias Span = OTLPReceiverProcess.Span

  /// The spans of `traceId` once `names` are all there (each at least once) and so is the parent
  /// of every span but `pay` (whose parent may be the caller's, exported by nobody here).
  private static func waitForTrace(
    _ receiver: OTLPReceiverProcess, _ traceId: String, names: [String]
  ) async throws -> [Span] {
    var spans: [Span] = []
    // Every parent too: the exporter sends spans in batches as they end, so the named ones can
    // arrive a batch before a parent of some other span (a DLT send's run still open).
    try await eventually("trace \(traceId) with \(names) and every parent", timeout: .seconds(60)) {
      spans = try receiver.trace(traceId)
      let seen = Set(spans.map(\.name))
      let ids = Set(spans.map(\.spanId))
      return names.allSatisfy(seen.contains)
        && spans.allSatisfy { $0.name == "pay" || ids.contains($0.parentSpanId) }
    }
    return spans
  }

  /// One tree: a single root, `pay`, and every other span's parent in the same trace.
  private static func expectOneTree(_ spans: [Span], sourceLocation: SourceLocation = #_sourceLocation) {
    let ids = Set(spans.map(\.spanId))
    let roots = spans.filter { $0.parentSpanId.isEmpty }
    #expect(roots.map(\.name) == ["pay"], sourceLocation: sourceLocation)
    #expect(roots.first?.kind == "SPAN_KIND_SERVER", sourceLocation: sourceLocation)
    for span in spans where !span.parentSpanId.isEmpty {
      #expect(
        ids.contains(span.parentSpanId), "\(span.name) has no parent in its trace", sourceLocation: sourceLocation)
    }
    #expect(spans.allSatisfy { $0.resource["service.name"]?.text == "sagad" }, sourceLocation: sourceLocation)
  }

  /// The one span named `name` whose parent is named `parent`.
  private static func span(_ name: String, under parent: String, in spans: [Span]) -> Span? {
    let parents = Set(spans.filter { $0.name == parent }.map(\.spanId))
    return spans.first { $0.name == name && parents.contains($0.parentSpanId) }
  }

  @Test("split roles: one trace crosses the Payments sagad and the Points sagad, each span from its own process")
  func splitRoles() async throws {
    let receiver = try await OTLPReceiverProcess.start()
    defer { receiver.child.killIfRunning() }
    let broker = try await DevBrokerProcess.start()
    defer { broker.cleanUp() }
    // OpenTelemetry's own variables only: they turn tracing on and win over sagad's keys.
    let tracing: [String: String?] = [
      "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "200",
      "OTEL_SERVICE_NAME": "tickets-saga",
    ]
    let pair = try await SplitPair.start(broker: broker.bootstrap, environment: tracing)
    defer { pair.stop() }
    do {
      let (paymentsNode, pointsNode) = (pair.payments, pair.points)
      let (paymentsDaemon, pointsDaemon) = (pair.paymentsDaemon, pair.pointsDaemon)
      let payments = try await connectAdmin(paymentsNode.socket, of: paymentsDaemon)
      let points = try await connectAdmin(pointsNode.socket, of: pointsDaemon)
      #expect(try await payments.send("user add 1 --balance 100000 --no-points").code == .ok)
      #expect(try await points.send("user add 1").code == .ok)
      // The caller's own trace: pay continues it.
      let caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
      let paid = try decodeReply(
        AdminJSON.Paid.self,
        try await payments.send("pay --user 1 --schedule 1 --amount 50000 --traceparent \(caller) --json"))
      #expect(paid.correlationId == "4bf92f3577b34da6a3ce929d0e0e4736", "the caller's trace id is the saga's")
      try await eventually("REWARDED", timeout: .seconds(60)) {
        try decodeReply(AdminJSON.Payment.self, try await payments.send("payment 1 --json")).status == "REWARDED"
      }
      let spans = try await Self.waitForTrace(
        receiver, paid.correlationId,
        names: [
          "pay", "send reservation-completed", "process reservation-completed", "send point-reward-completed",
          "process point-reward-completed",
        ])
      let pay = try #require(spans.first { $0.name == "pay" })
      #expect(pay.parentSpanId == "00f067aa0ba902b7", "pay is the caller's child")
      let ids = Set(spans.map(\.spanId))
      #expect(spans.filter { !ids.contains($0.parentSpanId) }.map(\.name) == ["pay"], "one tree under the caller")
      func roles(_ name: String) -> Set<String> {
        Set(spans.filter { $0.name == name }.compactMap { $0.resource["sagad.roles"]?.text })
      }
      #expect(roles("pay") == ["payments"])
      #expect(roles("send reservation-completed") == ["payments"])
      #expect(roles("process reservation-completed") == ["points"])
      #expect(roles("send point-reward-completed") == ["points"])
      #expect(roles("process point-reward-completed") == ["payments"])
      #expect(Set(spans.compactMap { $0.resource["service.instance.id"]?.text }).count == 2)
      #expect(spans.allSatisfy { $0.resource["service.name"]?.text == "tickets-saga" })
    } catch {
      Issue.record("\(pair.stderr)")
      throw error
    }
  }

  @Test(
    "a reward, a compensation and a dead letter: one tree each across both services; the collector gone, sagas go on")
  func sagasAsTraces() async throws {
    let receiver = try await OTLPReceiverProcess.start()
    defer { receiver.child.killIfRunning() }
    let dev = try DevDaemon(
      logLevel: "info",
      environment: [
        "SAGAD_TRACING_OTLP_ENDPOINT": receiver.endpoint, "SAGAD_METRICS_LISTEN": "127.0.0.1:0",
        // OpenTelemetry's own variable: export every 200 ms rather than every 5 s.
        "OTEL_BSP_SCHEDULE_DELAY": "200",
      ])
    let daemon = dev.process
    defer { daemon.killIfRunning() }
    do {
      let client = try await connectAdmin(dev.socket, of: daemon)
      func pay(user: Int, schedule: Int) async throws -> AdminJSON.Paid {
        try decodeReply(
          AdminJSON.Paid.self,
          try await client.send("pay --user \(user) --schedule \(schedule) --amount 50000 --json"))
      }
      func status(_ payment: Int64) async throws -> String {
        try decodeReply(AdminJSON.Payment.self, try await client.send("payment \(payment) --json")).status
      }
      #expect(try await client.send("user add 1 --balance 1000000").code == .ok)
      #expect(try await client.send("user add 2 --balance 1000000 --no-points").code == .ok)

      // A reward: pay → send → process on Points → send → process on Payments.
      let rewarded = try await pay(user: 1, schedule: 1)
      try await eventually("REWARDED") { try await status(rewarded.paymentId) == "REWARDED" }
      let reward = try await Self.waitForTrace(
        receiver, rewarded.correlationId,
        names: [
          "pay", "send reservation-completed", "process reservation-completed", "send point-reward-completed",
          "process point-reward-completed",
        ])
      Self.expectOneTree(reward)
      let processed = try #require(
        Self.span("process reservation-completed", under: "send reservation-completed", in: reward))
      #expect(processed.kind == "SPAN_KIND_CONSUMER")
      #expect(processed.text("messaging.system") == "kafka")
      #expect(processed.text("messaging.destination.name") == "reservation-completed")
      #expect(processed.text("messaging.consumer.group.name") == "points-service")
      #expect(processed.text("messaging.kafka.message.key") == String(rewarded.paymentId))
      #expect(processed.text("messaging.destination.partition.id") != nil)
      #expect(processed.text("messaging.kafka.offset") != nil)
      #expect(processed.text("sagad.outcome") == "applied")
      let sent = try #require(Self.span("send reservation-completed", under: "pay", in: reward))
      #expect(sent.kind == "SPAN_KIND_PRODUCER")
      #expect(sent.text("messaging.kafka.offset") != nil, "the send span ends with the delivery report")
      #expect(Self.span("send point-reward-completed", under: "process reservation-completed", in: reward) != nil)
      #expect(Self.span("handle reservation-completed", under: "process reservation-completed", in: reward) != nil)

      // A compensation: Points fails the reward (no account), Payments refunds.
      let refunded = try await pay(user: 2, schedule: 1)
      try await eventually("REFUNDED") { try await status(refunded.paymentId) == "REFUNDED" }
      let compensation = try await Self.waitForTrace(
        receiver, refunded.correlationId,
        names: [
          "pay", "send reservation-completed", "process reservation-completed", "send point-reward-failed",
          "send compensate-payment", "process point-reward-failed", "process compensate-payment",
        ])
      Self.expectOneTree(compensation)
      #expect(
        Self.span("process compensate-payment", under: "send compensate-payment", in: compensation)?.text(
          "messaging.consumer.group.name") == "payment-compensation-service")

      // A dead letter: the reward fails transiently three times (twice in place, once from the
      // retry schedule), is dead-lettered as exhausted, and Payments refunds. Each run is a span;
      // the log lines written inside them carry the trace id.
      #expect(try await client.send("failpoint set points.reward 'error(transient)' --count 3").code == .ok)
      let failed = try await pay(user: 1, schedule: 2)
      try await eventually("REFUNDED after the dead letter", timeout: .seconds(60)) {
        try await status(failed.paymentId) == "REFUNDED"
      }
      let deadLettered = try await Self.waitForTrace(
        receiver, failed.correlationId,
        names: ["pay", "process reservation-completed", "send reservation-completed.DLT", "send compensate-payment"])
      Self.expectOneTree(deadLettered)
      let runs = deadLettered.filter { $0.name == "process reservation-completed" }
      #expect(runs.compactMap { $0.text("sagad.attempt") }.sorted() == ["1", "2", "3"])
      let lastRun = try #require(runs.first { $0.text("sagad.attempt") == "3" })
      #expect(lastRun.status.code == 2)
      #expect(lastRun.text("sagad.outcome") == "dead_lettered")
      #expect(lastRun.text("sagad.failure_class") == "transient")
      #expect(lastRun.events.contains { $0.name == "exception" })
      #expect(runs.filter { $0.text("sagad.outcome") == "retried" }.count == 2)
      // The dead letter keeps the record's headers byte for byte, its traceparent included.
      #expect(Self.span("send reservation-completed.DLT", under: "send reservation-completed", in: deadLettered) != nil)
      #expect(
        daemon.stderr.lines.contains {
          $0.contains("dead-lettered") && $0.contains("trace_id=\(failed.correlationId)")
        },
        "the dead-letter log line carries the trace id")

      // The collector goes away: spans are lost and counted, sagas are not.
      receiver.stop()
      _ = try await receiver.child.waitForExit(timeout: .seconds(15))
      var later: [Int64] = []
      for schedule in 3...5 { later.append(try await pay(user: 1, schedule: schedule).paymentId) }
      try await eventually("the payments after the collector left rewarded", timeout: .seconds(60)) {
        for payment in later where try await status(payment) != "REWARDED" { return false }
        return true
      }
      let address = try String(contentsOfFile: dev.directory.path + "/metrics-address", encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines)
      let url = try #require(URL(string: "http://\(address)/metrics"))
      try await eventually("spans counted as dropped", timeout: .seconds(60)) {
        let (data, _) = try await URLSession.shared.data(from: url)
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n")
          .first { $0.hasPrefix("sagad_tracing_spans_dropped_total ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 > 0 } ?? false
      }
      // The exporter's complaints are rate-limited: one line a minute at most.
      let warnings = daemon.stderr.lines.filter { $0.contains("tracing: ") }
      #expect((1...2).contains(warnings.count), "\(warnings)")
      #expect(try await client.send("verify").code == .ok)
      daemon.signal(SIGTERM)
      #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 0)
    } catch {
      Issue.record(
        "sagad stderr:\n\(daemon.stderr.text.suffix(4000))\nreceiver:\n\(receiver.child.stderr.text.suffix(2000))")
      throw error
    }
  }
}
