import Foundation
import SagaCore
import SagaStorage
import Synchronization

/// Group commit for `pay`. With `synchronous=FULL` every commit costs an fsync, and one
/// transaction per request capped `pay` at the disk's fsync rate (~900/s here) however
/// many callers waited. Instead, callers queue their request and a single writer task
/// runs everything waiting (up to `maxGroupSize`) in ONE write transaction:
///
/// * a business refusal (insufficient balance, conflict, seat taken, …) is decided before
///   the request writes anything, so it is returned to its caller alone while the others
///   of the group go on;
/// * requests later in a group see the earlier ones (one transaction), so two identical
///   requests in one group give one payment and one duplicate, exactly as they would one
///   after the other;
/// * every caller is answered only after the transaction has committed: a payment is
///   accepted only once it is durable, and a failed commit fails the whole group;
/// * an error that is not a per-request refusal (I/O, busy, a bug) aborts the group's
///   transaction; its requests are then run again one transaction each, so one poisoned
///   request cannot fail the others, and each caller gets its own outcome.
///
/// A lone request commits at once (a group of one), so grouping adds no delay when idle.
/// Under load, the next group is taken no sooner than `window` after the one before was
/// (``holdForWindow(after:)``): without it, the groups at a steady rate were as small as the
/// writer's cycle allowed (three payments at 1,000/s), and each group's fixed cost (its
/// round trips, its fsync, a relay round, a Kafka message set) filled the cores the rest of
/// the saga needed (Docs/benchmarks.md, "2026-12-07 (forenoon)").
///
/// On PostgreSQL a group in which every user comes once is first written as one statement
/// without locks (``commitUnlocked(_:)``): two round trips instead of a transaction's five.
/// When that fails, the group runs as the transaction described above.
final class PayGroupCommit: Sendable {
  typealias Outcome = Result<PayResult, PaymentsError>

  struct Job: Sendable {
    let request: PayRequest
    let envelope: EventEnvelope
    let now: Date
    let continuation: CheckedContinuation<Outcome, Never>
  }

  private struct State {
    var queue: [Job] = []
    var writing = false
    var inFlight = 0
    var arrivals = PayArrivals()
    var statistics = PayGroupStatistics()
  }

  private let database: PaymentsDatabase
  private let maxGroupSize: Int
  /// The least time between the starts of two groups while requests queue (zero: none).
  private let window: Duration
  private let clock: SagaClock
  private let afterCommit: (@Sendable (_ events: [OutboxRecord]) -> Void)?
  private let metrics: PaymentsMetrics?
  private let state = Mutex(State())

  /// - Parameter afterCommit: called once per committed group that created payments, with
  ///   their `ReservationCompleted` rows as the relay reads them (the node hands them over).
  /// - Parameter metrics: counts the committed groups by how they were written, and the
  ///   writes of one statement sent back (nil counts nothing).
  /// - Parameter window: the least time between the starts of two groups while requests
  ///   queue, waited on `clock` (``holdForWindow(after:)``).
  init(
    database: PaymentsDatabase, maxGroupSize: Int, window: Duration = .zero, clock: SagaClock = .continuous,
    afterCommit: (@Sendable (_ events: [OutboxRecord]) -> Void)?, metrics: PaymentsMetrics? = nil
  ) {
    precondition(maxGroupSize > 0, "maxGroupSize must be positive")
    precondition(window >= .zero, "window must not be negative")
    self.database = database
    self.maxGroupSize = maxGroupSize
    self.window = window
    self.clock = clock
    self.afterCommit = afterCommit
    self.metrics = metrics
  }

  var statistics: PayGroupStatistics {
    state.withLock { state in
      var statistics = state.statistics
      statistics.queued = state.queue.count
      statistics.inFlight = state.inFlight
      return statistics
    }
  }

  /// Queues `request` and returns its outcome once its group has committed (or failed).
  /// Not cancellable: once queued, a request is decided, and its caller must not be told
  /// "cancelled" about a payment that may be committed.
  func submit(_ request: PayRequest, envelope: EventEnvelope, at now: Date) async -> Outcome {
    await withCheckedContinuation { continuation in
      let startWriter = state.withLock { state -> Bool in
        state.queue.append(Job(request: request, envelope: envelope, now: now, continuation: continuation))
        if window > .zero { state.arrivals.record(at: clock.now, cap: window) }
        guard !state.writing else { return false }
        state.writing = true
        return true
      }
      // One writer at a time; it lives while requests keep arriving and ends when the
      // queue is empty, so an idle service holds no task.
      if startWriter { Task { await self.drain() } }
    }
  }

  private func drain() async {
    var lastStart: SagaClock.Instant?
    while true {
      if let lastStart { await holdForWindow(after: lastStart) }
      let group = state.withLock { state -> [Job] in
        guard !state.queue.isEmpty else {
          state.writing = false
          return []
        }
        let count = min(maxGroupSize, state.queue.count)
        let group = Array(state.queue.prefix(count))
        state.queue.removeFirst(count)
        state.inFlight += count
        return group
      }
      guard !group.isEmpty else { return }
      lastStart = clock.now
      await commit(group)
    }
  }

  /// Under load (requests queued when a group is done), waits until `window` has passed since
  /// that group was taken, so that the next group gathers what arrives meanwhile. Not when
  /// nothing is queued (the writer ends, and a lone request later commits at once), nor when
  /// a full group is already waiting, and no longer once arrivals have stopped
  /// (``PayArrivals``): then nothing more is coming to gather.
  private func holdForWindow(after lastStart: SagaClock.Instant) async {
    guard window > .zero else { return }
    let deadline = lastStart + window
    var counted = false
    while true {
      let (queued, quiet) = state.withLock { ($0.queue.count, $0.arrivals.quietAfter(floor: Self.quietFloor)) }
      let wake = min(deadline, quiet ?? deadline)
      guard queued > 0, queued < maxGroupSize, clock.now < wake else { return }
      if !counted {
        counted = true
        state.withLock { $0.statistics.windowWaits += 1 }
        metrics?.countWindowWait()
      }
      // Not cancellable (the writer is an unstructured task nobody cancels); a failed sleep
      // only takes the group early. Arrivals meanwhile move `quiet` later: look again.
      try? await clock.sleep(until: wake)
    }
  }

  /// The least quiet after the last arrival before the window ends early: below it, a gap is
  /// the jitter of a steady stream, not its end.
  static let quietFloor: Duration = .microseconds(500)

  private func commit(_ group: [Job]) async {
    if runsUnlocked(group), await commitUnlocked(group) { return }
    let outcomes: [Result<PayWriter.Written, PaymentsError>]
    do {
      outcomes = try await database.write { db in
        try Self.apply(group.map { ($0.request, $0.envelope, $0.now) }, in: db)
      }
    } catch {
      guard group.count > 1 else {
        deliver([.failure(PaymentsError.wrapping(error))], to: group, committed: false)
        return
      }
      // Isolate the request that broke the transaction: each one alone.
      state.withLock { $0.statistics.splitGroups += 1 }
      for job in group { await commit([job]) }
      return
    }
    metrics?.count(.transaction)
    deliver(
      outcomes.map { $0.map(\.result) }, to: group, committed: true,
      events: outcomes.compactMap { try? $0.get().event })
  }

  /// Whether `group` is written as one statement without locks first (PostgreSQL;
  /// `SagaDatabase.writeInOneStatement`): each request is its user's only one in the group (a
  /// user's later request must read after the earlier one's writes, which such a write cannot),
  /// and the group's rows fit one held write per table.
  private func runsUnlocked(_ group: [Job]) -> Bool {
    guard database.storage.engine == .postgres, group.count <= SagaDatabase.mostRowsPerHeldWrite else {
      return false
    }
    var users = Set<Int64>()
    return group.allSatisfy { users.insert($0.request.userId).inserted }
  }

  /// Runs `group` as one statement without locks: its decisions read in one statement, its
  /// writes in another, two round trips in all instead of a transaction's five. Nothing holds
  /// the wallets in between, so the writes hold only over what was read (a balance written
  /// over the one it came from, the payments' and seats' unique keys): a change in between
  /// fails the statement, nothing of it written, and so does a request that needs a read
  /// after the group's writes (a repeated key). Returns false then, counted, and the
  /// group runs again as a transaction under locks, where the same requests decide afresh.
  private func commitUnlocked(_ group: [Job]) async -> Bool {
    let outcomes: [Result<PayWriter.Written, PaymentsError>]
    do {
      outcomes = try await database.writeInOneStatement { db in
        try Self.apply(group.map { ($0.request, $0.envelope, $0.now) }, locking: false, in: db)
      }
    } catch {
      state.withLock { $0.statistics.unlockedFallbacks += 1 }
      metrics?.countGroupFallback()
      return false
    }
    state.withLock { $0.statistics.unlockedGroups += 1 }
    metrics?.count(.oneStatement)
    deliver(
      outcomes.map { $0.map(\.result) }, to: group, committed: true,
      events: outcomes.compactMap { try? $0.get().event })
    return true
  }

  /// A group's requests in order, each without a savepoint of its own: `PayWriter` throws its
  /// refusals (`PaymentsError`) before its first write, so a refused request leaves nothing
  /// behind and the group goes on. Any other error (a constraint violation of a race, I/O, a
  /// lost connection) may come after a write: it is thrown, the group's transaction rolls back
  /// and its requests run again one transaction each. A savepoint per request cost two
  /// statements per payment, a round trip each on PostgreSQL, to guard against what is rare.
  ///
  /// On PostgreSQL the decisions of the users' first requests are read for the whole group in
  /// one statement (`Wallet.payStandings`): none of the group's writes touches their rows, so
  /// the group start's state is theirs; a user's later request reads its own, after the
  /// earlier one's writes. The requests' writes then follow each other without waiting for
  /// an answer, and the group costs two round trips (the locks, unanswered, with the
  /// decisions; the writes with the `COMMIT`) instead of one per request
  /// (Docs/storage-engines.md, "Round trips"). A lock's failure surfaces at the decisions.
  ///
  /// - Parameter locking: false in a write of one statement (``commitUnlocked(_:)``): no
  ///   wallet is locked.
  static func apply(
    _ requests: [(request: PayRequest, envelope: EventEnvelope, now: Date)], locking: Bool = true,
    in db: some SQLConnection
  ) throws -> [Result<PayWriter.Written, PaymentsError>] {
    // Two instances' groups (or a group and a compensation batch) sharing users would lock
    // their wallets in request order, and deadlock; in user order one waits for the other.
    if locking { try Wallet.lock(users: requests.map(\.request.userId), in: db) }
    var users = Set<Int64>()
    let firstOfUser = requests.map { users.insert($0.request.userId).inserted }
    let prefetched = try Wallet.payStandings(
      requests.map { ($0.request.userId, $0.request.scheduleId, $0.request.seat) }, locking: locking, in: db)
    return try requests.indices.map { index in
      let (request, envelope, now) = requests[index]
      do {
        return .success(
          try PayWriter.apply(
            request, envelope: envelope, at: now, firstOfUser: firstOfUser[index], prefetched: prefetched?[index],
            in: db))
      } catch let refusal as PaymentsError {
        return .failure(refusal)
      }
    }
  }

  /// Counts the group's outcomes, hands its new outbox rows to the relay and answers its callers.
  private func deliver(_ outcomes: [Outcome], to group: [Job], committed: Bool, events: [OutboxRecord] = []) {
    state.withLock { state in
      state.inFlight -= group.count
      if committed {
        state.statistics.groups += 1
        state.statistics.requests += group.count
        state.statistics.largestGroup = max(state.statistics.largestGroup, group.count)
      }
    }
    // The relay first: it can publish the new rows while callers resume.
    if !events.isEmpty { afterCommit?(events) }
    for (job, outcome) in zip(group, outcomes) { job.continuation.resume(returning: outcome) }
  }
}
