import SagaCore
import SagaStorage

/// When an outbox relay reads its outbox and when it publishes what its service's writers
/// handed it instead (``OutboxHandoff``). The handoff is trusted only while nothing says a
/// read could find more: no writer asked for a read (a plain ``Wakeup/signal()``, a commit that
/// handed nothing), no periodic read is due, the last read did not stop at its limit, the rows
/// fit the room left, and every handed row lies above the highest id handed before. A handed
/// row at or below it was committed below rows in flight (writers drawing ids concurrently),
/// and may have been read since: only a read from the oldest unsent row can tell, and it sees
/// only what is still unsent. A handed row a read published first (its writer's handoff came
/// after the read found it) is remembered and not sent again.
///
/// Rows another instance writes (PostgreSQL) are never handed here: that instance announces
/// their commit, naming them, and the relay reads them by id beside this schedule (an
/// announcement that names nothing asks for a read from the oldest row); the periodic read from
/// the oldest row stays as the safety net while this instance is not alone on the database.
/// Those reads do not make this instance's own handed rows suspect: what was read is remembered
/// by id, not as a highest id published (which, with the other instance's ids interleaved,
/// distrusted nearly every handoff after a scan).
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
  /// The highest id of the handed rows published so far.
  private(set) var highestHanded: Int64 = 0
  /// Ids reads published above `highestHanded`: a handed copy of one of them is not sent again.
  /// Forgotten once `highestHanded` passes them (a handed row there is read, not trusted).
  private var readAbove: Set<Int64> = []
  /// Past `readMemory` ids remembered (a relay that mostly reads), they are forgotten and
  /// handed rows at or below the highest of them are read instead.
  private var readFloor: Int64 = 0
  static let readMemory = 8_192

  /// `outbox.handoff`: off, every wake reads, as before the handoff.
  let handoff: Bool

  init(handoff: Bool = true, alone: Bool, lastRead: SagaClock.Instant) {
    self.handoff = handoff
    self.alone = alone
    self.lastRead = lastRead
  }

  /// Notes a round's row ids as published; `handed`: rows the handoff gave, else a read's.
  mutating func published(_ ids: [Int64], handed: Bool) {
    guard handed else {
      let handedUpTo = highestHanded
      readAbove.formUnion(ids.lazy.filter { $0 > handedUpTo })
      if readAbove.count > Self.readMemory {
        readFloor = max(readFloor, readAbove.max() ?? 0)
        readAbove = []
      }
      return
    }
    guard let highest = ids.max(), highest > highestHanded else { return }
    highestHanded = highest
    if !readAbove.isEmpty { readAbove = readAbove.filter { $0 > highest } }
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
    guard lowest > max(highestHanded, readFloor) else { return .read(fromStart: true) }
    let unread = readAbove.isEmpty ? rows : rows.filter { !readAbove.contains($0.id) }
    guard !unread.isEmpty else { return .nothing }
    // Each writer's rows come in id order; several writers' may interleave.
    return .rows(unread.isSorted { $0.id < $1.id } ? unread : unread.sorted { $0.id < $1.id })
  }
}

extension Array where Element == OutboxRecord {
  fileprivate func isSorted(by before: (OutboxRecord, OutboxRecord) -> Bool) -> Bool {
    zip(self, dropFirst()).allSatisfy { before($0, $1) }
  }
}
