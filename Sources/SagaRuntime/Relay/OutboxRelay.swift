public import CoreMetrics
import Foundation
public import Logging
public import SagaCore
public import SagaKafka
public import SagaStorage
public import ServiceLifecycle
import Synchronization

/// Publishes one service database's outbox (Docs/design.md, "Outbox relay"): woken right after each
/// commit that wrote rows, it reads unsent rows in id order, hands them to the
/// idempotent producer, and marks a row sent only once librdkafka reports it
/// `persisted`. A broker outage leaves rows unsent; nothing is lost, and they go out
/// in order when it returns.
///
/// Rounds are pipelined: the relay does not wait for one round's delivery reports
/// before handing newer rows to the producer, because a report can take tens of
/// milliseconds (linger, acks=all) and every row committed meanwhile waited for it:
/// that wait was most of a saga hop's latency. At most `batchMax` rows are in flight,
/// so a broker failure can reorder no more rows than one round of the unpipelined relay
/// could. Rounds are settled (rows marked sent, failures counted) oldest first and
/// several at a time, in one write: when all rounds in flight are in, when half the
/// window is used, or `settleDelay` after the oldest was sent. (A write per round cost
/// the service's writer, the saga's slowest stage, an fsync each; a row marked sent a
/// little later is only re-sent if the process dies meanwhile, which the consumers'
/// inbox absorbs.) After a failed delivery nothing new is sent until every round in
/// flight is settled; then the relay backs off and starts again from the oldest unsent row.
public final class OutboxRelay: Service, Sendable {
  /// How long the oldest round in flight may wait to be settled, and so how often the
  /// relay looks at its rounds when nothing else wakes it.
  static let settleDelay: Duration = .milliseconds(50)

  /// A round's row ids with their delivery reports, in row order.
  private typealias Reported = (ids: [Int64], reports: [KafkaDeliveryReport])

  public let name: String
  public let wakeup: Wakeup
  /// Ends a polling relay's sleep on shutdown; `wakeup` is ignored in that mode.
  private let pollStop = Wakeup()
  private let database: SagaDatabase
  private let producer: KafkaProducer
  private let settings: RelaySettings
  private let logger: Logger
  private let counters = Mutex(RelayStatistics())
  private let metrics: RelayMetrics
  /// `outbox.publish` fires before each round is handed to the producer; an injected
  /// error fails the round like a broker error would, leaving its rows unsent.
  private let failpoints: Failpoints
  /// What idle waits, settle delays and back-offs pass on; its wall time dates the purge.
  private let clock: SagaClock

  /// - Parameters:
  ///   - clock: tests advance a manual one instead of waiting out an idle interval.
  ///   - metrics: where the relay counts what it publishes; nil: the process's bootstrapped factory.
  public init(
    name: String, database: SagaDatabase, producer: KafkaProducer, settings: RelaySettings = RelaySettings(),
    wakeup: Wakeup = Wakeup(), failpoints: Failpoints = .disabled, clock: SagaClock = .continuous,
    metrics: (any MetricsFactory)? = nil, logger: Logger
  ) {
    self.name = name
    self.metrics = RelayMetrics(service: name, factory: metrics)
    self.clock = clock
    self.database = database
    self.producer = producer
    self.settings = settings
    self.wakeup = wakeup
    self.failpoints = failpoints
    var logger = logger
    logger[metadataKey: "relay"] = "\(name)"
    self.logger = logger
  }

  public var statistics: RelayStatistics { counters.withLock { $0 } }

  public func run() async throws {
    guard settings.wakeOnCommit else { return await poll() }
    var backoff = settings.initialBackoff
    var lastPurge = clock.now
    var inFlight: [RelayRound] = []
    // Set by a failed delivery or settlement: send nothing new until the rounds in
    // flight are settled, then back off and re-read from the oldest unsent row.
    var recovering = false
    await withGracefulShutdownHandler {
      while !Task.isCancelled && !Task.isShuttingDownGracefully {
        do {
          let settled = try await settleCompleted(&inFlight)
          if settled.failed > 0 { recovering = true }
          if recovering {
            if inFlight.isEmpty {
              recovering = false
              try? await clock.sleep(for: backoff)
              backoff = min(backoff * 2, settings.maxBackoff)
            } else {
              await wakeup.wait(timeout: Self.settleDelay, clock: clock)
            }
            continue
          }
          if settled.sent > 0 { backoff = settings.initialBackoff }
          let room = settings.batchMax - inFlight.reduce(0) { $0 + $1.ids.count }
          if room > 0 {
            let round = try await sendRound(after: inFlight.last?.ids.last ?? 0, limit: room)
            if let round {
              inFlight.append(round)
              if round.ids.count == room { continue }  // more may be waiting
            }
          }
          if inFlight.isEmpty, clock.now - lastPurge > settings.purgeInterval {
            lastPurge = clock.now
            let purged = try await database.purge(settings.retention, now: clock.wallTime)
            logger.debug("purged", metadata: ["outbox": "\(purged.outboxRows)", "inbox": "\(purged.inboxRows)"])
          }
          // A commit wakes it; with rounds in flight, so does the time to settle them.
          await wakeup.wait(timeout: inFlight.isEmpty ? settings.idleInterval : Self.settleDelay, clock: clock)
        } catch {
          // Cancelled mid-round (the node is stopping): not a failure worth an error line.
          if Task.isCancelled { break }
          counters.withLock { $0.lastError = "\(error)" }
          logger.error("relay round failed", metadata: ["error": "\(error)"])
          recovering = true
          try? await clock.sleep(for: backoff)
          backoff = min(backoff * 2, settings.maxBackoff)
        }
      }
    } onGracefulShutdown: {
      self.wakeup.signal()
    }
    await drain(inFlight)
  }

  /// `wakeOnCommit` off (the report's design, the benchmarks' baseline): every
  /// `idleInterval`, publish everything pending in unpipelined rounds, then sleep; commits
  /// signalling `wakeup` do not shorten the sleep, only shutdown does.
  private func poll() async {
    var lastPurge = clock.now
    await withGracefulShutdownHandler {
      while !Task.isCancelled && !Task.isShuttingDownGracefully {
        do {
          while try await publishRound().sent == settings.batchMax {}
          if clock.now - lastPurge > settings.purgeInterval {
            lastPurge = clock.now
            _ = try await database.purge(settings.retention, now: clock.wallTime)
          }
        } catch {
          if Task.isCancelled { break }
          counters.withLock { $0.lastError = "\(error)" }
          logger.error("relay round failed", metadata: ["error": "\(error)"])
        }
        await pollStop.wait(timeout: settings.idleInterval, clock: clock)
      }
    } onGracefulShutdown: {
      self.pollStop.signal()
    }
    await drain([])
  }

  /// On shutdown: settle the rounds in flight, then one last round so rows committed
  /// just before it go out.
  private func drain(_ inFlight: [RelayRound]) async {
    do {
      var pending: [Reported] = []
      for round in inFlight { pending.append((round.ids, await round.reports)) }
      let settled = try await settle(pending)
      let outcome = try await publishRound()
      logger.info(
        "stopped", metadata: ["sent": "\(settled.sent + outcome.sent)", "unsent": "\(settled.failed + outcome.unsent)"])
    } catch {
      logger.warning("final outbox round failed; rows stay for the next start", metadata: ["error": "\(error)"])
    }
  }

  /// Reads up to `limit` unsent rows above id `after` and hands them to the producer;
  /// nil when there are none.
  private func sendRound(after: Int64, limit: Int) async throws -> RelayRound? {
    let rows = try await database.read { db in try Outbox.pending(limit: limit, after: after, in: db) }
    guard !rows.isEmpty else { return nil }
    try await failpoints.hitAsync(.outboxPublish)
    let tickets = try await producer.send(rows.map(kafkaMessage))
    return RelayRound(ids: rows.map(\.id), tickets: tickets, sentAt: clock.now)
  }

  /// Settles the oldest rounds whose reports are all in, in one write transaction, when
  /// it is time to (see the type's comment).
  private func settleCompleted(_ inFlight: inout [RelayRound]) async throws -> (sent: Int, failed: Int) {
    guard let oldest = inFlight.first else { return (0, 0) }
    var ready: [Reported] = []
    var failed = false
    for round in inFlight {
      guard let reports = round.readyReports else { break }
      ready.append((round.ids, reports))
      failed = failed || reports.contains { !$0.isPersisted }
    }
    guard !ready.isEmpty else { return (0, 0) }
    let due =
      failed || ready.count == inFlight.count
      || inFlight.reduce(0) { $0 + $1.ids.count } >= settings.batchMax / 2
      || clock.now - oldest.sentAt >= Self.settleDelay
    guard due else { return (0, 0) }
    // Removed before the write: if it fails, the rows stay unsent and are read again
    // once the rounds still in flight are settled.
    inFlight.removeFirst(ready.count)
    return try await settle(ready)
  }

  /// Marks the persisted rows sent and counts a failed attempt on the others.
  private func settle(_ rounds: [Reported]) async throws -> (sent: Int, failed: Int) {
    var persisted: [Int64] = []
    var failed: [Int64] = []
    var lastError: KafkaError?
    for (ids, reports) in rounds {
      for (id, report) in zip(ids, reports) {
        if report.isPersisted {
          persisted.append(id)
        } else {
          failed.append(id)
          lastError = report.error
        }
      }
    }
    guard !persisted.isEmpty || !failed.isEmpty else { return (0, 0) }
    let (sentIDs, failedIDs) = (persisted, failed)
    let clock = self.clock
    try await database.write { db in
      if !sentIDs.isEmpty { _ = try Outbox.markSent(ids: sentIDs, at: clock.wallTime, in: db) }
      if !failedIDs.isEmpty { _ = try Outbox.recordFailedAttempt(ids: failedIDs, in: db) }
    }
    metrics.count(sent: persisted.count, failed: failed.count)
    counters.withLock { stats in
      stats.sent += persisted.count
      stats.failedAttempts += failed.count
      if let lastError { stats.lastError = "\(lastError)" }
    }
    if let lastError {
      logger.warning("rows not persisted, will retry", metadata: ["count": "\(failed.count)", "error": "\(lastError)"])
    }
    return (persisted.count, failed.count)
  }

  /// One unpipelined round: reads up to `batchMax` unsent rows, publishes them, waits
  /// for every report and marks the persisted ones.
  @discardableResult
  public func publishRound() async throws -> (sent: Int, unsent: Int) {
    let limit = settings.batchMax
    let rows = try await database.read { db in try Outbox.pending(limit: limit, in: db) }
    guard !rows.isEmpty else { return (0, 0) }
    try await failpoints.hitAsync(.outboxPublish)
    let tickets = try await producer.send(rows.map(kafkaMessage))
    var reports: [KafkaDeliveryReport] = []
    for ticket in tickets { reports.append(await ticket.report) }
    let settled = try await settle([(rows.map(\.id), reports)])
    return (settled.sent, settled.failed)
  }

  /// The record for `row`. A saga event also gets Spring's `__TypeId__` here, at the
  /// point where Spring's own `JsonSerializer` adds it, so a changed `spring.type_*` setting
  /// applies to rows already waiting; dead letters keep their original headers unchanged.
  func kafkaMessage(_ row: OutboxRecord) -> KafkaProducerMessage {
    var headers = row.headers
    if settings.typeIds.isEnabled, let topic = SagaTopic(rawValue: row.topic),
      let typeId = settings.typeIds.typeId(for: EventType(topic: topic))
    {
      headers.append(RecordHeader(name: HeaderName.springTypeId, value: typeId))
    }
    return KafkaProducerMessage(
      topic: row.topic, key: row.message.keyContent.bytes, value: row.payload, headers: headers)
  }
}
