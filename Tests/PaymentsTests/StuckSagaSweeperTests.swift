import Foundation
import GRDB
import Logging
import Payments
import SagaCore
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Synchronization
import Testing

/// The sweeper's timer and bookkeeping on a bare in-memory Payments database (no Kafka): with an
/// injected clock for the counting, and with its own loop on short real settings.
@Suite("Stuck-saga sweeper", .timeLimit(.minutes(2)))
struct StuckSagaSweeperTests {
  private static let silent: Logger = {
    var logger = Logger(label: "sweeper-test")
    logger.logLevel = .critical
    return logger
  }()

  private static func payments() throws -> PaymentsService {
    PaymentsService(database: try PaymentsDatabase(DatabaseQueue()))
  }

  private static func pay(_ payments: PaymentsService) async throws -> PayResult {
    try await payments.addUser(id: 1, initialBalance: 100_000)
    return try await payments.pay(PayRequest(userId: 1, scheduleId: 1, seat: nil, amount: 50_000))
  }

  @Test("with a moved clock: re-announced max_republish times, then reported once and counted; relay woken")
  func injectedClock() async throws {
    let payments = try Self.payments()
    let paid = try await Self.pay(payments)
    let now = Mutex(Date())
    let wakeup = Wakeup()
    let sweeper = StuckSagaSweeper(
      payments: payments,
      settings: SweeperSettings(stuckAfter: .seconds(60), interval: .seconds(15), maxRepublish: 2),
      relayWakeup: wakeup, clock: { now.withLock { $0 } }, logger: Self.silent)
    func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }

    #expect(try await sweeper.sweep().republished.isEmpty)
    advance(61)
    #expect(try await sweeper.sweep().republished.map(\.republishCount) == [1])
    // The relay was told: waiting returns at once; without the signal it would outlast the
    // suite's time limit.
    await wakeup.wait(timeout: .seconds(3_600))
    advance(30)
    #expect(try await sweeper.sweep().republished.isEmpty, "stuck_after counts from the last re-announcement")
    advance(31)
    #expect(try await sweeper.sweep().republished.map(\.republishCount) == [2])
    advance(61)
    let reported = try await sweeper.sweep()
    #expect(reported.republished.isEmpty && reported.reported.map(\.paymentId) == [paid.paymentId])
    advance(61)
    let after = try await sweeper.sweep()
    #expect(after.republished.isEmpty && after.reported.isEmpty)

    let stats = sweeper.statistics
    #expect(stats.sweeps == 6 && stats.republished == 2 && stats.reported == 1 && stats.stuck == 1)
    let stuck = try await sweeper.stuckSagas()
    #expect(stuck.map(\.paymentId) == [paid.paymentId] && stuck.first?.republishCount == 2)
    #expect(try await payments.steps(paymentId: paid.paymentId).filter { $0.step == .republished }.count == 2)
  }

  @Test("its own loop on short settings: re-announces, stops at the limit, keeps reporting the saga")
  func loop() async throws {
    let payments = try Self.payments()
    let paid = try await Self.pay(payments)
    let sweeper = StuckSagaSweeper(
      payments: payments,
      settings: SweeperSettings(stuckAfter: .milliseconds(300), interval: .milliseconds(100), maxRepublish: 3),
      logger: Self.silent)
    let task = Task { try await sweeper.run() }
    defer { task.cancel() }

    try await eventually("the saga to be reported stuck") {
      try await sweeper.stuckSagas().map(\.paymentId) == [paid.paymentId]
    }
    let sweeps = sweeper.statistics.sweeps
    try await eventually("five more sweeps") { sweeper.statistics.sweeps >= sweeps + 5 }
    let steps = try await payments.steps(paymentId: paid.paymentId).map(\.step)
    #expect(steps.filter { $0 == .republished }.count == 3)
    #expect(steps.filter { $0 == .stuckReported }.count == 1)
    let announcements = try await payments.database.storage.read { db in
      try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE topic = 'reservation-completed'") ?? 0
    }
    #expect(announcements == 1 + 3)
    #expect(sweeper.statistics.stuck == 1 && sweeper.statistics.reported == 1)
    #expect(try await sweeper.stuckSagas().first?.republishCount == 3)
    task.cancel()
    try await task.value
  }
}
