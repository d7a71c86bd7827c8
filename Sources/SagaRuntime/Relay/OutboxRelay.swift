public import CoreMetrics
import Foundation
public import Logging
public import SagaCore
public import SagaKafka
public import SagaStorage
public import ServiceLifecycle
import Synchronization
import Tracing

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
/// inbox absorbs.) A settlement whose rows were all persisted is written beside the loop
/// (`RelaySideTask`), so rows handed meanwhile do not wait for it. After a failed
/// delivery nothing new is sent until every round in flight is settled; then the relay
/// backs off and starts again from the oldest unsent row.
///
/// A row librdkafka refuses for what it is (larger than `message.max.bytes`, …) can never be
/// sent: it is stored whole in the dead-letter store and closed, and the relay moves on
/// without backing off (Docs/retries-and-dead-letters.md, "Records that cannot be sent").
public final class OutboxRelay: Service, Sendable {
  /// How long the oldest round in flight may wait to be settled, and so how often the
  /// relay looks at its rounds when nothing else wakes it.
  static let settleDelay: Duration = .milliseconds(50)

  /// How often, with rounds in flight, a round reads from the oldest unsent row instead of
  /// above the last one in flight; nil: never (see ``RelaySettings/stragglerInterval``).
  let stragglerInterval: Duration?

  /// A round's row ids with their delivery reports, in row order.
  private typealias Reported = (ids: [Int64], reports: [KafkaDeliveryReport])
  /// Rounds all persisted whose rows are being marked sent beside the loop.
  private typealias Settling = (ids: [Int64], task: RelaySideTask<(sent: Int, failed: Int)>)

  /// How often a relay on a database several instances may share asks whether it is alone
  /// there: while it is not, it scans from the oldest row now and then for the other
  /// instances' rows, which nobody hands it (``ReadSchedule``).
  static let peerCheckInterval: Duration = .seconds(1)

  /// How often a lease holder that hears the standbys' announcements still reads from the oldest
  /// row while other instances are on the database: for rows no announcement named (committed
  /// while their instance was taking or losing the lease), a transition's rarity.
  static let listeningScanInterval: Duration = .seconds(1)

  public let name: String
  /// Wakes the relay to read (a plain signal) or to take what ``handoff`` holds (a nudge).
  public let wakeup: Wakeup
  /// Where this service's writers hand the rows they committed.
  public let handoff: OutboxHandoff
  /// Ends a polling relay's sleep on shutdown; `wakeup` is ignored in that mode.
  private let pollStop = Wakeup()
  public let database: SagaDatabase
  private let producer: KafkaProducer
  /// Where rows that cannot be sent, and rows an operator discards, are kept; nil (tests
  /// without one): such rows are retried like any failure.
  private let deadLetters: DeadLetterStore?
  /// Row ids handed to the producer and not yet settled, and ids being discarded: a discard
  /// and a round never take the same row.
  private let handover = Mutex(Handover())
  /// Traces every row published as a producer span (Docs/tracing.md); nil traces nothing.
  private let tracer: SagaTracer?
  private let settings: RelaySettings
  private let logger: Logger
  private let counters = Mutex(RelayStatistics())
  /// A standby announced a commit without naming its rows since the last read from the oldest
  /// row (``listenForOtherInstances()``).
  private let announced = Atomic(false)
  /// The rows standbys' announcements named, not read yet, in the order heard.
  private let announcedRows = Mutex(AnnouncedRows())
  private let metrics: RelayMetrics
  /// `outbox.publish` fires before each round is handed to the producer; an injected
  /// error fails the round like a broker error would, leaving its rows unsent.
  private let failpoints: Failpoints
  /// What idle waits, settle delays and back-offs pass on; its wall time dates the purge.
  private let clock: SagaClock
  /// On a database several instances share (PostgreSQL), the relay publishes only while it
  /// holds this lease, so one relay per service keeps the outbox's order per key; nil: the
  /// only instance (SQLite).
  private let lease: (any DatabaseLease)?

  /// - Parameters:
  ///   - clock: tests advance a manual one instead of waiting out an idle interval.
  ///   - metrics: where the relay counts what it publishes; nil: the process's bootstrapped factory.
  ///   - deadLetters: where rows that can never be sent go; nil retries them like any failure.
  public init(
    name: String, database: SagaDatabase, producer: KafkaProducer, settings: RelaySettings = RelaySettings(),
    wakeup: Wakeup = Wakeup(), failpoints: Failpoints = .disabled, clock: SagaClock = .continuous,
    metrics: (any MetricsFactory)? = nil, deadLetters: DeadLetterStore? = nil, tracer: SagaTracer? = nil,
    logger: Logger
  ) {
    self.name = name
    self.deadLetters = deadLetters
    self.tracer = tracer
    self.metrics = RelayMetrics(service: name, factory: metrics)
    self.clock = clock
    self.database = database
    self.producer = producer
    self.settings = settings
    self.wakeup = wakeup
    self.handoff = OutboxHandoff(wakeup: wakeup)
    self.failpoints = failpoints
    self.lease = database.lease(named: "relay \(name)")
    self.stragglerInterval = settings.stragglerInterval ?? RelaySettings.stragglerInterval(for: database.engine)
    var logger = logger
    logger[metadataKey: "relay"] = "\(name)"
    self.logger = logger
  }

  public var statistics: RelayStatistics { counters.withLock { $0 } }

  public func run() async throws {
    defer {
      metrics.publishing(false)
      // Stopped (or restarted by the supervisor): no timer left waiting for the next round.
      wakeup.cancelTimer()
      pollStop.cancelTimer()
    }
    guard let lease else {
      metrics.publishing(true)
      return await lead(nil)
    }
    counters.withLock { $0.leaseHeld = false }
    await withGracefulShutdownHandler {
      while !Task.isCancelled && !Task.isShuttingDownGracefully {
        guard await lease.tryAcquire() else {
          // A standby: another instance publishes, told of this one's commits as they happen
          // (nobody hands it this instance's rows). It asks again every second.
          database.announceOutboxWrites(true)
          await pollStop.wait(timeout: .seconds(1), clock: clock)
          continue
        }
        database.announceOutboxWrites(false)
        counters.withLock { $0.leaseHeld = true }
        metrics.publishing(true)
        logger.notice("relay lease taken: this instance publishes the outbox", metadata: ["lease": "\(lease.name)"])
        let listener = listenForOtherInstances()
        await lead(lease)
        listener.cancel()
        await listener.value
        counters.withLock { $0.leaseHeld = false }
        metrics.publishing(false)
      }
    } onGracefulShutdown: {
      self.pollStop.signal()
    }
    await lease.release()
  }

  /// While this relay holds the lease: the standbys announce their commits that wrote outbox rows
  /// (``SagaDatabase/announceOutboxWrites(_:)``), naming the rows, and an announcement wakes the
  /// loop to read those rows by id, at once (``sendRound(announced:)``). One that names none (an
  /// older sagad's, or too many rows) wakes it to read from the oldest unsent row, where they
  /// are: at once with nothing in flight, else at most every `stragglerInterval`, the scan's own
  /// pace (under load a read from the oldest row per announcement cost more than it saved).
  /// Without announcements the rows would wait for the loop's next wake (up to `idleInterval`)
  /// or scan; the scan every `stragglerInterval` comes back while the listening connection is
  /// down, and the listener asks for one as it starts listening, for commits made before.
  private func listenForOtherInstances() -> Task<Void, Never> {
    return Task { [database, wakeup, clock, logger, metrics] in
      // Reset once the server has the LISTEN again: one warning per outage, not one a second.
      let failing = Atomic(false)
      while !Task.isCancelled {
        do {
          try await database.listenForOutboxWrites(
            listening: {
              failing.store(false, ordering: .relaxed)
              self.counters.withLock { $0.listening = true }
              self.announced.store(true, ordering: .relaxed)
              wakeup.nudge()
            }
          ) { announcement in
            self.counters.withLock { $0.announcementsHeard += 1 }
            metrics.heardStandbyCommit()
            // Past what the list keeps, the ids are dropped for one read from the oldest row.
            let kept = announcement.ids.map { ids in self.announcedRows.withLock { $0.append(ids) } }
            if kept != true { self.announced.store(true, ordering: .relaxed) }
            wakeup.nudge()
          }
          self.counters.withLock { $0.listening = false }
        } catch {
          self.counters.withLock { $0.listening = false }
          if Task.isCancelled { break }
          if !failing.exchange(true, ordering: .relaxed) {
            logger.warning(
              "cannot listen for the other instances' outbox commits; their rows wait for the relay's scan",
              metadata: ["error": "\(error)"])
          }
          try? await clock.sleep(for: .seconds(1))
        }
      }
    }
  }

  /// How many rows may go in flight besides `inFlight`.
  private func roomBeside(_ inFlight: [RelayRound]) -> Int {
    settings.batchMax - inFlight.reduce(0) { $0 + $1.ids.count }
  }

  /// Publishes while `lease` (if any) is held: the relay's loop proper.
  private func lead(_ lease: (any DatabaseLease)?) async {
    guard settings.wakeOnCommit else { return await poll(lease) }
    var backoff = settings.initialBackoff
    var lastPurge = clock.now
    var lastFromStart = clock.now
    var inFlight: [RelayRound] = []
    // Rounds all persisted, being marked sent beside the loop; their rows stay in the
    // handover and out of reads until the write is done.
    var settling: Settling?
    // Who else is on the database, asked beside the loop.
    var peers: RelaySideTask<Bool>?
    // Set by a failed delivery or settlement: send nothing new until the rounds in
    // flight are settled, then back off and re-read from the oldest unsent row.
    var recovering = false
    // The handoff (``OutboxHandoff``): trusted above the highest id published, after a first
    // read; not alone on the database, the scan from the oldest row goes on beside it.
    var reads = ReadSchedule(handoff: settings.handoff, alone: lease == nil, lastRead: clock.now)
    handoff.requireRead()
    await withGracefulShutdownHandler {
      while !Task.isCancelled && !Task.isShuttingDownGracefully {
        if let lease, await !lease.check() { break }
        do {
          if settings.handoff, lease != nil {
            if let alone = peers?.result {
              peers = nil
              reads.alone = (try? alone.get()) ?? false
            }
            if peers == nil, reads.lastPeerCheck.map({ clock.now - $0 >= Self.peerCheckInterval }) ?? true {
              reads.lastPeerCheck = clock.now
              let database = self.database
              peers = RelaySideTask { (try? await database.report(leases: []))?.instances.count == 1 }
            }
          }
          var settled = (sent: 0, failed: 0)
          if let done = settling?.task.result {
            settling = nil
            settled = try done.get()
          }
          let now = try await settleCompleted(&inFlight, settling: &settling)
          settled = (settled.sent + now.sent, settled.failed + now.failed)
          if settled.failed > 0 {
            recovering = true
            handoff.requireRead()
          }
          if recovering {
            if inFlight.isEmpty, settling == nil {
              recovering = false
              try? await clock.sleep(for: backoff)
              backoff = min(backoff * 2, settings.maxBackoff)
            } else {
              await wakeup.wait(timeout: Self.settleDelay, clock: clock)
            }
            continue
          }
          if settled.sent > 0 { backoff = settings.initialBackoff }
          var room = roomBeside(inFlight)
          if room > 0, let ids = takeAnnounced(limit: room), let round = try await sendRound(announced: ids) {
            inFlight.append(round)
            reads.published(round.ids, handed: false)
            room = roomBeside(inFlight)
          }
          if room > 0 {
            // Alone, a row committed below the rows in flight is handed over too, and found
            // below what was published: the scan is for other instances' rows, which their
            // announcements name while this relay hears them.
            let scanDue = stragglerInterval.map { clock.now - lastFromStart >= $0 } ?? true
            let safetyScanDue =
              counters.withLock { $0.listening } ? clock.now - lastFromStart >= Self.listeningScanInterval : scanDue
            let stragglersDue =
              (!reads.alone && stragglerInterval != nil && safetyScanDue)
              || (announced.load(ordering: .relaxed) && (inFlight.isEmpty || scanDue))
            let after = inFlight.last?.ids.last ?? 0
            let next = reads.next(
              asked: wakeup.takeSignal(), rows: handoff.take(), room: room, after: after,
              due: stragglersDue || clock.now - reads.lastRead >= settings.idleInterval)
            var round: RelayRound?
            switch next {
            case .rows(let rows):
              round = try await sendRound(handed: rows)
            case .nothing:
              break
            case .read(let below):
              // From the start when nothing is in flight, now and then when rounds are
              // (`stragglerInterval`, several instances), and when a row to send may lie
              // below those in flight (`ReadSchedule`); above the last row in flight otherwise.
              let fromStart = inFlight.isEmpty || stragglersDue || below
              if fromStart {
                lastFromStart = clock.now
                announced.store(false, ordering: .relaxed)
              }
              reads.lastRead = clock.now
              let read = try await sendRound(
                after: fromStart ? 0 : after, limit: room,
                excluding: fromStart ? inFlight.flatMap(\.ids) + (settling?.ids ?? []) : [])
              round = read.round
              reads.backlog = read.full
            }
            if let round {
              inFlight.append(round)
              if case .rows = next {
                reads.published(round.ids, handed: true)
              } else {
                reads.published(round.ids, handed: false)
                if round.ids.count == room { continue }  // more may be waiting
              }
            }
          }
          if inFlight.isEmpty, settling == nil, clock.now - lastPurge > settings.purgeInterval {
            lastPurge = clock.now
            let purged = try await database.purge(settings.retention, now: clock.wallTime)
            logger.debug("purged", metadata: ["outbox": "\(purged.outboxRows)", "inbox": "\(purged.inboxRows)"])
          }
          // A commit wakes it; with rounds in flight, so does the time to settle them, and the
          // scan's next turn when a standby announced rows meanwhile (if there is room to read
          // them: a full pipeline waits for its rounds to settle).
          var timeout = inFlight.isEmpty ? settings.idleInterval : Self.settleDelay
          if announced.load(ordering: .relaxed), let stragglerInterval, roomBeside(inFlight) > 0 {
            timeout = max(.milliseconds(1), min(timeout, stragglerInterval - (clock.now - lastFromStart)))
          }
          await wakeup.wait(timeout: timeout, clock: clock)
        } catch {
          // Cancelled mid-round (the node is stopping): not a failure worth an error line.
          if Task.isCancelled { break }
          counters.withLock { $0.lastError = "\(error)" }
          logger.error("relay round failed", metadata: ["error": "\(error)"])
          recovering = true
          handoff.requireRead()
          try? await clock.sleep(for: backoff)
          backoff = min(backoff * 2, settings.maxBackoff)
        }
      }
    } onGracefulShutdown: {
      self.wakeup.signal()
    }
    // Its answer no longer matters, but it reads the database the node is about to close.
    _ = await peers?.finish()
    await drain(inFlight, settling: settling)
  }

  /// `wakeOnCommit` off (the report's design, the benchmarks' baseline): every
  /// `idleInterval`, publish everything pending in unpipelined rounds, then sleep; commits
  /// signalling `wakeup` do not shorten the sleep, only shutdown does.
  private func poll(_ lease: (any DatabaseLease)?) async {
    var lastPurge = clock.now
    await withGracefulShutdownHandler {
      while !Task.isCancelled && !Task.isShuttingDownGracefully {
        if let lease, await !lease.check() { break }
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
    await drain([], settling: nil)
  }

  /// On shutdown: settle the rounds in flight, then one last round so rows committed
  /// just before it go out.
  private func drain(_ inFlight: [RelayRound], settling: Settling?) async {
    var earlier = (sent: 0, failed: 0)
    switch await settling?.task.finish() {
    case .success(let settled): earlier = settled
    case .failure(let error):
      // Those rows stay unsent and go out again after the next start; the rounds after
      // them are still settled.
      logger.warning("marking rows sent failed", metadata: ["error": "\(error)"])
    case nil: break
    }
    do {
      var pending: [Reported] = []
      for round in inFlight { pending.append((round.ids, await round.reports)) }
      let settled = try await settle(pending)
      let outcome = try await publishRound()
      logger.info(
        "stopped",
        metadata: [
          "sent": "\(earlier.sent + settled.sent + outcome.sent)",
          "unsent": "\(earlier.failed + settled.failed + outcome.unsent)",
        ])
    } catch {
      logger.warning("final outbox round failed; rows stay for the next start", metadata: ["error": "\(error)"])
    }
  }

  /// Hands `rows`, which their writers handed over after committing them, to the producer:
  /// a round like a read one, without the read.
  private func sendRound(handed rows: [OutboxRecord]) async throws -> RelayRound? {
    try await failpoints.hitAsync(.outboxPublish)
    let taken = take(rows)
    guard !taken.isEmpty else { return nil }
    counters.withLock { $0.handedRounds += 1 }
    return try await send(taken)
  }

  /// Up to `limit` of the rows the standbys' announcements named, oldest heard first; nil when
  /// none waits.
  private func takeAnnounced(limit: Int) -> [Int64]? {
    announcedRows.withLock { $0.take(limit: limit) }
  }

  /// Reads the rows `ids` a standby's announcement named that are still unsent and not in flight
  /// (a scan may have found them first), and hands them to the producer as one round; nil when
  /// none is left. By key, so a round costs the server the rows it publishes, not a walk from
  /// the oldest unsent row past the rows in flight.
  private func sendRound(announced ids: [Int64]) async throws -> RelayRound? {
    let read = try await database.readStatement { db in try Outbox.pending(ids: ids, in: db) }
    guard !read.isEmpty else { return nil }
    try await failpoints.hitAsync(.outboxPublish)
    let rows = take(read)
    guard !rows.isEmpty else { return nil }
    counters.withLock { stats in
      stats.readRounds += 1
      stats.announcedRounds += 1
    }
    return try await send(rows)
  }

  /// Reads up to `limit` unsent rows above id `after`, none of them in flight, and hands
  /// them to the producer; nil when there are none. `full`: the read stopped at its limit.
  /// - Parameter excluding: the rows in flight the read would meet (they are unsent until
  ///   settled): the database leaves them out rather than sending them back.
  private func sendRound(after: Int64, limit: Int, excluding: [Int64] = []) async throws -> (
    round: RelayRound?, full: Bool
  ) {
    let read = try await database.readStatement { db in
      try Outbox.pending(limit: limit, after: after, excluding: excluding, in: db)
    }
    guard !read.isEmpty else { return (nil, false) }
    try await failpoints.hitAsync(.outboxPublish)
    let rows = take(read, limit: limit)
    guard !rows.isEmpty else { return (nil, read.count == limit) }
    counters.withLock { $0.readRounds += 1 }
    return (try await send(rows), read.count == limit)
  }

  /// Hands `rows` (marked in flight) to the producer as one round.
  private func send(_ rows: [OutboxRecord]) async throws -> RelayRound {
    let (messages, spans) = traced(rows)
    do {
      let tickets = try await producer.send(messages)
      return RelayRound(ids: rows.map(\.id), tickets: tickets, sentAt: clock.now, spans: spans)
    } catch {
      for span in spans { span.end() }
      release(rows.map(\.id))
      throw error
    }
  }

  /// The first `limit` rows of `read` that are neither in flight nor being discarded, now
  /// marked in flight.
  private func take(_ read: [OutboxRecord], limit: Int = .max) -> [OutboxRecord] {
    handover.withLock { handover in
      var rows: [OutboxRecord] = []
      for row in read where rows.count < limit {
        guard !handover.discarding.contains(row.id), !handover.discarded.contains(row.id),
          !handover.inFlight.contains(row.id)
        else { continue }
        rows.append(row)
      }
      handover.inFlight.formUnion(rows.map(\.id))
      return rows
    }
  }

  private func release(_ ids: [Int64]) {
    handover.withLock { handover in handover.inFlight.subtract(ids) }
  }

  /// Settles the oldest rounds whose reports are all in, in one write transaction, when
  /// it is time to (see the type's comment).
  private func settleCompleted(
    _ inFlight: inout [RelayRound], settling: inout Settling?
  ) async throws -> (sent: Int, failed: Int) {
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
    if !failed {
      // All persisted: marked beside the loop, one write at a time (the next waits its turn
      // in flight); nothing is sent twice meanwhile, the rows are still in the handover.
      guard settling == nil else { return (0, 0) }
      inFlight.removeFirst(ready.count)
      let rounds = ready
      settling = Settling(
        ids: rounds.flatMap(\.ids), task: RelaySideTask(wakeup: wakeup) { [self] in try await settle(rounds) })
      return (0, 0)
    }
    // A failure: the relay stops sending until it is settled, so it waits for the write
    // (and the one already running, to keep them in order).
    if let running = settling {
      settling = nil
      let earlier = try await running.task.finish().get()
      let now = try await settleFailing(&inFlight, ready)
      return (earlier.sent + now.sent, earlier.failed + now.failed)
    }
    return try await settleFailing(&inFlight, ready)
  }

  /// Removed before the write: if it fails, the rows stay unsent and are read again once the
  /// rounds still in flight are settled.
  private func settleFailing(_ inFlight: inout [RelayRound], _ ready: [Reported]) async throws -> (
    sent: Int, failed: Int
  ) {
    inFlight.removeFirst(ready.count)
    return try await settle(ready)
  }

  /// Marks the persisted rows sent, closes those that can never be sent (their copy stored
  /// as a dead letter first) and counts a failed attempt on the others. Unsendable rows are
  /// not failures: they do not make the relay back off.
  private func settle(_ rounds: [Reported]) async throws -> (sent: Int, failed: Int) {
    var persisted: [Int64] = []
    var failed: [Int64] = []
    var unsendable: [(id: Int64, error: KafkaError)] = []
    var lastError: KafkaError?
    for (ids, reports) in rounds {
      for (id, report) in zip(ids, reports) {
        if report.isPersisted {
          persisted.append(id)
        } else if report.isUnsendable, deadLetters != nil, let error = report.error {
          unsendable.append((id, error))
        } else {
          failed.append(id)
          lastError = report.error
        }
      }
    }
    defer { release(rounds.flatMap(\.ids)) }
    guard !persisted.isEmpty || !failed.isEmpty || !unsendable.isEmpty else { return (0, 0) }
    let closed = try await deadLetter(unsendable)
    let (sentIDs, failedIDs) = (persisted, failed)
    let clock = self.clock
    let failure = lastError.map { "\($0)" }
    try await database.write { db in
      if !sentIDs.isEmpty { _ = try Outbox.markSent(ids: sentIDs, at: clock.wallTime, in: db) }
      if !failedIDs.isEmpty { _ = try Outbox.recordFailedAttempt(ids: failedIDs, error: failure, in: db) }
      for (id, reason) in closed { _ = try Outbox.close(id: id, reason: reason, at: clock.wallTime, in: db) }
    }
    metrics.count(sent: persisted.count, failed: failed.count, deadLettered: closed.count)
    counters.withLock { stats in
      stats.sent += persisted.count
      stats.failedAttempts += failed.count
      stats.deadLettered += closed.count
      if let lastError { stats.lastError = "\(lastError)" }
    }
    if let lastError {
      logger.warning("rows not persisted, will retry", metadata: ["count": "\(failed.count)", "error": "\(lastError)"])
    }
    return (persisted.count, failed.count)
  }

  /// Stores each row that can never be sent in the dead-letter store; returns the rows to
  /// close, with why. A row no longer pending (discarded meanwhile) is left alone.
  private func deadLetter(_ rows: [(id: Int64, error: KafkaError)]) async throws -> [(Int64, String)] {
    guard let deadLetters, !rows.isEmpty else { return [] }
    var closed: [(Int64, String)] = []
    for (id, error) in rows {
      guard let entry = try await database.read({ db in try Outbox.entry(id: id, in: db) }), entry.state == .pending
      else { continue }
      let letter = try await deadLetters.recordUnsent(entry.record, service: name, why: "\(error)", at: clock.wallTime)
      closed.append((id, "dead-lettered as \(letter.id): \(error)"))
      logger.error(
        "outbox row can never be sent; stored as a dead letter and closed",
        metadata: [
          "row": "\(id)", "topic": "\(entry.record.topic)", "bytes": "\(entry.record.payload.count)",
          "deadLetter": "\(letter.id)", "error": "\(error)",
        ])
    }
    return closed
  }

  /// One unpipelined round: reads up to `batchMax` unsent rows, publishes them, waits
  /// for every report and marks the persisted ones.
  @discardableResult
  public func publishRound() async throws -> (sent: Int, unsent: Int) {
    let limit = settings.batchMax
    let read = try await database.readStatement { db in try Outbox.pending(limit: limit, in: db) }
    guard !read.isEmpty else { return (0, 0) }
    try await failpoints.hitAsync(.outboxPublish)
    let rows = take(read)
    guard !rows.isEmpty else { return (0, 0) }
    let tickets: [KafkaDeliveryTicket]
    let (messages, spans) = traced(rows)
    do {
      tickets = try await producer.send(messages)
    } catch {
      for span in spans { span.end() }
      release(rows.map(\.id))
      throw error
    }
    var reports: [KafkaDeliveryReport] = []
    for ticket in tickets { reports.append(await ticket.report) }
    RelayRound.finish(spans, reports)
    let settled = try await settle([(rows.map(\.id), reports)])
    return (settled.sent, settled.failed)
  }

  // MARK: Operators

  /// Rows of this relay's outbox, oldest first: the pending ones, or (`includeDone`) every
  /// row retention keeps.
  public func entries(includeDone: Bool, limit: Int, after: Int64 = 0) async throws -> [OutboxEntry] {
    try await database.read { db in try Outbox.entries(includeDone: includeDone, limit: limit, after: after, in: db) }
  }

  public func entry(id: Int64) async throws -> OutboxEntry? {
    try await database.read { db in try Outbox.entry(id: id, in: db) }
  }

  /// Takes pending row `id` out of the queue for good: stores it in the dead-letter store as
  /// discarded with `note` (so it can still be read, and replayed with `dlt replay`), then
  /// closes it. Refused while the relay has it in flight.
  /// - Throws: ``OutboxError``, or the storage error that left the row pending.
  public func discard(id: Int64, note: String) async throws -> (entry: OutboxEntry, deadLetter: StoredDeadLetter) {
    guard !note.allSatisfy(\.isWhitespace) else {
      throw OutboxError(.invalidRequest, "a note is required: why the row is set aside")
    }
    guard let deadLetters else {
      throw OutboxError(.noDeadLetterStore, "this relay has no dead-letter store to keep the row in")
    }
    try handover.withLock { (handover: inout Handover) throws(OutboxError) in
      guard !handover.inFlight.contains(id) else {
        throw OutboxError(.inFlight, "\(name) outbox row \(id) is being published right now; ask again in a moment")
      }
      handover.discarding.insert(id)
    }
    defer { handover.withLock { _ = $0.discarding.remove(id) } }
    guard let entry = try await entry(id: id) else {
      throw OutboxError(.notFound, "\(name) outbox row \(id) does not exist (never written, or purged once sent)")
    }
    guard entry.state == .pending else {
      throw OutboxError(
        .notPending, "\(name) outbox row \(id) is \(entry.state.rawValue); only a pending row is discarded")
    }
    let letter = try await deadLetters.recordUnsent(
      entry.record, service: name, why: "discarded by an operator: \(note)", discardNote: note, at: clock.wallTime)
    let clock = self.clock
    try await database.write { db in
      _ = try Outbox.close(id: id, reason: "discarded (dead letter \(letter.id)): \(note)", at: clock.wallTime, in: db)
    }
    // Closed: a copy may still wait in the handoff (a read would not return the row).
    handover.withLock { _ = $0.discarded.insert(id) }
    handoff.requireRead()
    logger.notice(
      "outbox row discarded",
      metadata: ["row": "\(id)", "topic": "\(entry.record.topic)", "deadLetter": "\(letter.id)", "note": "\(note)"])
    return (try await self.entry(id: id) ?? entry, letter)
  }

  /// The records for `rows`; with tracing, each under a producer span of its own (child of
  /// the span that wrote the row), whose context replaces the row's `traceparent`. A dead
  /// letter keeps the failed record's headers byte for byte, its `traceparent` too.
  private func traced(_ rows: [OutboxRecord]) -> ([KafkaProducerMessage], [any Span]) {
    guard let tracer else { return (rows.map(kafkaMessage), []) }
    var messages: [KafkaProducerMessage] = []
    var spans: [any Span] = []
    messages.reserveCapacity(rows.count)
    spans.reserveCapacity(rows.count)
    for row in rows {
      var message = kafkaMessage(row)
      let stored = row.headers.last(named: HeaderName.traceparent)?.text
      let span = tracer.sendSpan(
        topic: row.topic, key: row.key, eventId: row.headers.last(named: HeaderName.eventId)?.text,
        traceparent: stored, service: name)
      if !row.topic.hasSuffix(SagaTopic.deadLetterSuffix), let trace = tracer.trace(of: span) {
        message.headers.removeAll { $0.name == HeaderName.traceparent }
        message.headers.append(RecordHeader(name: HeaderName.traceparent, value: trace.traceparent))
      }
      messages.append(message)
      spans.append(span)
    }
    return (messages, spans)
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

/// Which rows a relay round holds and which a discard is taking (``OutboxRelay/discard(id:note:)``).
private struct Handover {
  var inFlight: Set<Int64> = []
  var discarding: Set<Int64> = []
  /// Rows operators discarded (a handful in a process's life): never taken again.
  var discarded: Set<Int64> = []
}
