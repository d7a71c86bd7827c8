public import SagaStorage
import Synchronization

/// What a service's writers tell its outbox relay after a commit that wrote outbox rows: the
/// rows themselves, as the relay would read them back, so that it publishes them without
/// reading them (on PostgreSQL a round trip of each side per relay round, and the wait of one
/// in every saga hop: Docs/design.md, "Outbox relay"); or only that there are rows it must
/// read. Either way it wakes the relay; a plain ``Wakeup/signal()`` of the relay's wake-up
/// (a writer that knows nothing of the handoff) asks it to read, as before.
///
/// The relay takes handed rows only when it may trust them (``ReadSchedule``): rows above
/// every id it has published, no commit since its last read that handed nothing. Anything else
/// makes it read as before, so a row is never lost to the handoff nor published twice because
/// of it: a handed row at or below an id already published (a writer that drew its ids before
/// another's commit, or a row a read found first) is left to a read, which sees only unsent
/// rows. Another instance's rows (PostgreSQL) are only ever read.
public final class OutboxHandoff: Sendable {
  /// Rows held for the relay at most: past it (a relay stalled by a broker outage) they are
  /// dropped for a read, rather than kept in memory.
  public static let capacity = 10_000

  private struct State {
    var rows: [OutboxRecord] = []
    /// A commit handed nothing (or too much) since the relay's last read: it must read.
    var mustRead = true
  }

  /// The relay's wake-up, signalled by every commit that reports here.
  public let wakeup: Wakeup
  private let state = Mutex(State())

  public init(wakeup: Wakeup = Wakeup()) {
    self.wakeup = wakeup
  }

  /// A transaction that wrote outbox rows has committed: `records` are its rows in the order
  /// written, or nil when it wrote rows it cannot describe (the relay then reads them).
  public func committed(_ records: [OutboxRecord]?) {
    let handed = state.withLock { state -> Bool in
      guard let records, !state.mustRead, state.rows.count + records.count <= Self.capacity else {
        state.rows = []
        state.mustRead = true
        return false
      }
      state.rows += records
      return true
    }
    // A plain signal asks the relay to read, as every commit did before the handoff.
    if handed { wakeup.nudge() } else { wakeup.signal() }
  }

  /// What the relay has to go on: the rows handed since it last took them, or nil when it must
  /// read (then it reads, and rows handed from now on count again). Either way the list is empty
  /// afterwards.
  func take() -> [OutboxRecord]? {
    state.withLock { state in
      defer {
        state.rows = []
        state.mustRead = false
      }
      return state.mustRead ? nil : state.rows
    }
  }

  /// The relay will not trust what is handed until it has read again (a new lease, a failure,
  /// an operator's discard).
  func requireRead() {
    state.withLock { state in
      state.rows = []
      state.mustRead = true
    }
  }
}
