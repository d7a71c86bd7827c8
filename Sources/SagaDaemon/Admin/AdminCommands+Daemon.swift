import AdminProtocol
import Foundation
import Logging
import SagaStorage

/// What the daemon commands act on besides the services: lifecycle and lag sampling.
struct DaemonAdmin: Sendable {
  let control: DaemonControl
  let lag: ConsumerLagSampler?
  /// Broker reachability for `status`; nil where nothing probes the cluster.
  var brokers: BrokerProbe?
}

/// The daemon commands: `log-level`, `lag`, `drain`, `shutdown`.
extension AdminCommands {
  /// `pay` through the drain gate: refused with 8009 once `drain` or shutdown began.
  func gated(_ body: () async throws -> AdminReply) async throws -> AdminReply {
    guard let daemon else { return try await body() }
    return try await daemon.control.gatePay(body)
  }

  private func daemonRequired() throws -> DaemonAdmin {
    guard let daemon else {
      throw AdminProtocolError(.unavailable, "this command needs the running daemon, which this process is not")
    }
    return daemon
  }

  func logLevelReply(_ request: AdminRequest) throws -> AdminReply {
    let previous = LiveLogLevel.current
    if let text = request.text("level") {
      guard let level = LoggingOptions.Level(rawValue: text.lowercased()) else {
        throw AdminProtocolError(
          .usage,
          "'\(text)' is not a level: \(LoggingOptions.Level.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      LiveLogLevel.current = level.loggerLevel
    }
    let current = LiveLogLevel.current
    if request.json {
      return try Self.json(AdminJSON.LogLevel(level: "\(current)", previous: "\(previous)"))
    }
    return .final(
      .ok, current == previous ? "log level is \(current)" : "log level changed from \(previous) to \(current)")
  }

  func lagReply(_ request: AdminRequest) throws -> AdminReply {
    // No sample here: the window is samples at the sampler's own pace, and extra ones
    // taken whenever someone asks would judge growth over arbitrary spans.
    let sampler = daemon?.lag
    let rows = sampler?.rows() ?? []
    // A partition never committed has no offset to judge a consumer by: counted apart.
    let worst = rows.filter { !$0.reading.neverCommitted }.map(\.status).max() ?? .ok
    let window = sampler?.window ?? 0
    func status(_ row: ConsumerLagSampler.Row) -> String {
      row.reading.neverCommitted ? "NO-OFFSET" : row.status.rawValue
    }
    if request.json {
      return try Self.json(
        AdminJSON.Lag(
          status: worst.rawValue, window: window,
          partitions: rows.map { row in
            let sample = row.reading.sample
            return AdminJSON.Lag.Partition(
              group: row.key.group, role: row.relation.rawValue, topic: row.key.topic, partition: row.key.partition,
              lag: sample.lag, committed: sample.committed, highWatermark: sample.highWatermark,
              neverCommitted: row.reading.neverCommitted, status: status(row), samples: row.samples,
              consumer: row.presence.rawValue, source: row.reading.source.rawValue)
          }))
    }
    var out = ReplyBuilder()
    out.header([
      "GROUP", "ROLE", "TOPIC", "PARTITION", "LAG", "COMMITTED", "HIGH WATERMARK", "STATUS", "SAMPLES", "CONSUMER",
      "SOURCE",
    ])
    for row in rows {
      let sample = row.reading.sample
      out.row(
        [row.key.group, row.relation.rawValue, row.key.topic, String(row.key.partition)]
          + [sample.lag, sample.committed, sample.highWatermark].map { $0.map(String.init) ?? "-" }
          + [status(row), String(row.samples), row.presence.rawValue, row.reading.source.rawValue])
    }
    guard sampler != nil else { return out.finish(.ok, "no lag statistics in this process") }
    let uncommitted = rows.filter(\.reading.neverCommitted)
    var note = "\(worst.rawValue): \(rows.count) partitions, judged over the last \(window) samples"
    if !uncommitted.isEmpty {
      let behind = uncommitted.compactMap(\.reading.sample.lag).reduce(0, +)
      note += "; \(uncommitted.count) never committed (NO-OFFSET, \(behind) records from the log start)"
    }
    return out.finish(.ok, note)
  }

  func drainReply(_ request: AdminRequest) async throws -> AdminReply {
    let daemon = try daemonRequired()
    let control = daemon.control
    let seconds = request.integer("timeout") ?? Int64(control.shutdownTimeout.components.seconds)
    guard (1...3600).contains(seconds) else { throw AdminProtocolError(.usage, "timeout must be 1...3600 seconds") }
    let started = ContinuousClock.now
    let deadline = started + .seconds(seconds)
    control.beginDrain()
    var pending: [String: Int] = [:]
    var inFlight = 0
    while true {
      inFlight = control.paysInFlight
      pending = try await outboxPending()
      if inFlight == 0, pending.values.allSatisfy({ $0 == 0 }) { break }
      guard ContinuousClock.now < deadline else { break }
      try await Task.sleep(for: .milliseconds(50))
    }
    let elapsed = ContinuousClock.now - started
    let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let drained = inFlight == 0 && pending.values.allSatisfy { $0 == 0 }
    if request.json {
      return try Self.json(
        AdminJSON.Drain(drained: drained, paysInFlight: inFlight, outboxPending: pending, seconds: elapsedSeconds),
        code: drained ? .ok : .unavailable, text: drained ? "drained" : "not drained")
    }
    let outbox = pending.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    let summary = "\(inFlight) payments in flight; outbox pending: \(outbox.isEmpty ? "none" : outbox)"
    if drained {
      return .final(
        .ok, String(format: "drained in %.1f s: pay is refused from now on; ", elapsedSeconds) + summary)
    }
    return .final(.unavailable, "not drained after \(seconds) s (pay stays refused): " + summary)
  }

  /// Unsent outbox rows per service database.
  private func outboxPending() async throws -> [String: Int] {
    var pending: [String: Int] = [:]
    for case (let service, let database?) in [
      ("payments", payments?.database.storage), ("points", points?.database.storage),
    ] {
      pending[service] = try await database.read { db in try Outbox.pendingCount(in: db) }
    }
    return pending
  }

  func shutdownReply(_ request: AdminRequest) throws -> AdminReply {
    let control = try daemonRequired().control
    let timeout = control.shutdownTimeout
    // After this reply is written: the admin server finishes a busy connection's reply
    // before it closes it.
    control.requestShutdown(reason: "admin shutdown")
    let seconds = Double(timeout.components.seconds)
    if request.json { return try Self.json(AdminJSON.Shutdown(stopping: true, timeoutSeconds: seconds)) }
    return .final(.ok, "shutting down: draining within \(DurationParsing.format(timeout)) (shutdown.timeout)")
  }
}
