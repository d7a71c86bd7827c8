import Foundation
import GRDB
import Payments
import SagaCore
import SagaStorage
import Synchronization

// Helpers for GroupCommitTests: holding the writer to shape groups, holding a commit to
// observe callers before it, and recording what the service reports.

/// A Payments service whose commits are recorded (`afterPayCommit`), on a fresh database
/// file: group commit is about fsyncs and about readers beside a held writer, which only a
/// WAL file has.
struct GroupHarness: Sendable {
  let payments: PaymentsDatabase
  let service: PaymentsService
  let commits: Recorder<Int>

  var database: SagaDatabase { payments.storage }

  /// - Parameters: `window`, `clock`, `maxGroupSize` and `metrics` as `PaymentsService` takes them.
  static func run(
    window: Duration = .zero, clock: SagaClock = .continuous,
    maxGroupSize: Int = PaymentsService.defaultMaxGroupSize, metrics: PaymentsMetrics = PaymentsMetrics(),
    _ body: (GroupHarness) async throws -> Void
  ) async throws {
    try await PaymentsHarness.runOnDisk { base in
      let commits = Recorder<Int>()
      let service = PaymentsService(
        database: base.payments, maxGroupSize: maxGroupSize, groupWindow: window, waitClock: clock,
        afterPayCommit: { commits.record($0.count) }, metrics: metrics)
      try await base.service.addUser(id: 99, initialBalance: 1_000_000)
      try await body(GroupHarness(payments: base.payments, service: service, commits: commits))
    }
  }

  func count(_ sql: String) async throws -> Int {
    try await database.read { db in try db.value(Int.self, sql) ?? 0 }
  }

  /// Pays `requests` as ONE group, in this order: holds the writer, lets a first request
  /// (user 99's plug) be taken as a group of its own, queues `requests` behind it one by
  /// one, then lets the writer go.
  func payInOneGroup(_ requests: [PayRequest]) async throws -> [Result<PayResult, PaymentsError>] {
    let queued = try await queueBehindPlug(requests)
    try await queued.releasePlug()
    return await queued.results()
  }

  /// Holds the writer, lets user 99's plug be taken as a group of its own, and queues
  /// `requests` behind it one by one; the writer stays held until `releasePlug()`.
  func queueBehindPlug(_ requests: [PayRequest]) async throws -> QueuedRequests {
    let hold = WriterHold()
    let holder = Task { try await database.sqlite!.writeWithoutTransaction { _ in hold.block() } }
    try await poll { hold.isHolding }
    let schedule = Int64(service.payStatistics.requests + 1_000)
    let plug = Task { try await service.pay(PayRequest(userId: 99, scheduleId: schedule, amount: 1)) }
    try await poll { service.payStatistics.inFlight == 1 }
    var queued = QueuedRequests(hold: hold, holder: holder, plug: plug, payers: [])
    for request in requests { try await queued.add(request, to: service) }
    return queued
  }
}

/// Requests queued behind a plug whose group waits for the held writer.
struct QueuedRequests {
  let hold: WriterHold
  let holder: Task<Void, any Error>
  let plug: Task<PayResult, any Error>
  var payers: [Task<Result<PayResult, PaymentsError>, Never>]

  /// Queues one more request, and returns once the service counts it queued.
  mutating func add(_ request: PayRequest, to service: PaymentsService) async throws {
    let before = service.payStatistics.queued
    payers.append(
      Task {
        do throws(PaymentsError) { return .success(try await service.pay(request)) } catch { return .failure(error) }
      })
    try await poll { service.payStatistics.queued == before + 1 }
  }

  /// Lets the writer go and returns once the plug's group has committed.
  func releasePlug() async throws {
    hold.release()
    try await holder.value
    _ = try await plug.value
  }

  /// The queued requests' outcomes, in the order queued.
  func results() async -> [Result<PayResult, PaymentsError>] {
    var results: [Result<PayResult, PaymentsError>] = []
    for payer in payers { results.append(await payer.value) }
    return results
  }
}

/// Blocks the database's writer thread (not a thread of the cooperative pool) until released.
final class WriterHold: Sendable {
  private let state = Mutex((holding: false, released: false))

  var isHolding: Bool { state.withLock { $0.holding } }

  func block() {
    state.withLock { $0.holding = true }
    while !state.withLock({ $0.released }) { usleep(1_000) }
  }

  func release() { state.withLock { $0.released = true } }
}

/// Holds the next commit after `arm()` just before it happens, until `release()`.
final class CommitGate: TransactionObserver, Sendable {
  private let state = Mutex((armed: false, waiting: false, released: false))

  var isWaiting: Bool { state.withLock { $0.waiting } }

  func arm() { state.withLock { $0.armed = true } }
  func release() { state.withLock { $0.released = true } }

  func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
  func databaseDidChange(with event: DatabaseEvent) {}
  func databaseWillCommit() throws {
    guard state.withLock({ $0.armed && !$0.released }) else { return }
    state.withLock { $0.waiting = true }
    while !state.withLock({ $0.released }) { usleep(1_000) }
  }
  func databaseDidCommit(_ db: some SQLConnection) {}
  func databaseDidRollback(_ db: some SQLConnection) {}
}

final class Recorder<Value: Sendable>: Sendable {
  private let values = Mutex<[Value]>([])

  var all: [Value] { values.withLock { $0 } }

  func record(_ value: Value) { values.withLock { $0.append(value) } }
}

struct InjectedFailure: Error {}

/// Waits until `condition` holds, checking every few milliseconds, for up to 10 s.
func poll(_ condition: () -> Bool) async throws {
  let deadline = ContinuousClock.now + .seconds(10)
  while !condition() {
    guard ContinuousClock.now < deadline else { throw PollTimeout() }
    try await Task.sleep(for: .milliseconds(2))
  }
}

struct PollTimeout: Error {}

extension Result {
  var failure: Failure? {
    if case .failure(let error) = self { return error }
    return nil
  }
}
