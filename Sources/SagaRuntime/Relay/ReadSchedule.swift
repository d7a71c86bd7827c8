import SagaCore
import SagaStorage

/// When an outbox relay reads its outbox and when it publishes what its service's writers
/// handed it instead (``OutboxHandoff``). The handoff is trusted only while nothing says a
/// read could find more: no writer asked for a read (a plain ``Wakeup/signal()``, a commit that
/// handed nothing), no periodic read is due, the last read did not stop at its limit, the rows
/// fit the room left, and every handed row lies above the highest id already published. A
/// handed row at or below it was either read already or committed below rows in flight
/// (writers drawing ids concurrently): only a read from the oldest unsent row can tell, and it
/// sees only what is still unsent. Rows another instance writes (PostgreSQL) are never handed
/// here: that instance announces their commit, which wakes the relay with a plain signal (a read
/// from the oldest row), and the periodic read from the oldest row (`stragglerInterval`) stays
/// as the safety net while this instance is not alone on the database.
struct ReadSchedule {
  /// What the relay does next.
  enum Next: Equatable {
    /// Publish these handed rows, in id order, without reading.
    case rows([OutboxRecord])
    /// Nothing was handed and nothing asks for a read.
    case nothing
    /// Read; `fromStart`: from the oldest unsent row, because a row to send may lie below
    /// the rows in flight (else above the last of them will do).
    case read(fromStart: Bool)
  }

  /// Whether this instance is the only one writing the outbox (always on SQLite; on
  /// PostgreSQL as the sessions on the database say, checked every second): only then may the
  /// relay stop scanning from the oldest row for rows nobody handed it.
  var alone: Bool
  var lastRead: SagaClock.Instant
  /// Nil until the first check.
  var lastPeerCheck: SagaClock.Instant?
  /// The last read filled the room: more unsent rows may wait in the outbox, which only a
  /// read finds (handed rows past the room were dropped for it too).
  var backlog = false
  /// The highest id handed to the producer so far.
  private(set) var highestPublished: Int64 = 0

  /// `outbox.handoff`: off, every wake reads, as before the handoff.
  let handoff: Bool

  init(handoff: Bool = true, alone: Bool, lastRead: SagaClock.Instant) {
    self.handoff = handoff
    self.alone = alone
    self.lastRead = lastRead
  }

  /// Notes a round's row ids as published.
  mutating func published(_ ids: [Int64]) {
    if let highest = ids.max(), highest > highestPublished { highestPublished = highest }
  }

  /// - Parameters:
  ///   - asked: a plain signal came since the last round.
  ///   - rows: what the handoff holds (``OutboxHandoff/take()``); nil: it asks for a read.
  ///   - room: how many rows may go in flight now.
  ///   - after: the last row in flight, above which a read that need not start from the
  ///     oldest row reads.
  ///   - due: a periodic read is due (the idle safety net; not alone, the scan for the other
  ///     instances' rows).
  func next(asked: Bool, rows: [OutboxRecord]?, room: Int, after: Int64, due: Bool) -> Next {
    // `outbox.handoff` off: every wake reads, as before the handoff.
    guard handoff else { return .read(fromStart: false) }
    // A row nobody described (or the handoff let go of) may lie anywhere: from the oldest.
    guard !asked, !due, let rows else { return .read(fromStart: true) }
    let lowest = rows.lazy.map(\.id).min()
    guard !backlog, rows.count <= room else { return .read(fromStart: lowest.map { $0 <= after } ?? false) }
    guard let lowest else { return .nothing }
    guard lowest > highestPublished else { return .read(fromStart: true) }
    // Each writer's rows come in id order; several writers' may interleave.
    return .rows(rows.isSorted { $0.id < $1.id } ? rows : rows.sorted { $0.id < $1.id })
  }
}

extension Array where Element == OutboxRecord {
  fileprivate func isSorted(by before: (OutboxRecord, OutboxRecord) -> Bool) -> Bool {
    zip(self, dropFirst()).allSatisfy { before($0, $1) }
  }
}
