import Foundation
import GRDB
import Logging
import Payments
import SagaCore
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

/// The sweeper's timer and bookkeeping on a bare in-memory Payments database (no Kafka), on
/// a test clock: single sweeps for the counting, and its own loop advanced interval by interval.
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
    let clock = TestClock()
    let wakeup = Wakeup()
    let sweeper = StuckSagaSweeper(
      payments: payments,
      settings: SweeperSettings(stuckAfter: .seconds(60), interval: .seconds(15), maxRepublish: 2),
      relayWakeup: wakeup, clock: SagaClock(clock), logger: Self.silent)
    func advance(_ seconds: Int64) async { await clock.advance(by: .seconds(seconds)) }

    #expect(try await sweeper.sweep().republished.isEmpty)
    await advance(61)
    #expect(try await sweeper.sweep().republished.map(\.republishCount) == [1])
    // The relay was told: waiting returns at once; without the signal it would outlast the
    // suite's time limit.
    await wakeup.wait(timeout: .seconds(3_600))
    await advance(30)
    #expect(try await sweeper.sweep().republished.isEmpty, "stuck_after counts from the last re-announcement")
    await advance(31)
    #expect(try await sweeper.sweep().republished.map(\.republishCount) == [2])
    await advance(61)
    let reported = try await sweeper.sweep()
    #expect(reported.republished.isEmpty && reported.reported.map(\.paymentId) == [paid.paymentId])
    await advance(61)
    let after = try await sweeper.sweep()
    #expect(after.republished.isEmpty && after.reported.isEmpty)

    let stats = sweeper.statistics
    #expect(stats.sweeps == 6 && stats.republished == 2 && stats.reported == 1 && stats.stuck == 1)
    let stuck = try await sweeper.stuckSagas()
    #expect(stuck.map(\.paymentId) == [paid.paymentId] && stuck.first?.republishCount == 2)
    #expect(try await payments.steps(paymentId: paid.paymentId).filter { $0.step == .republished }.count == 2)
  }

  @Test("its own loop, one interval at a time: re-announces, stops at the limit, keeps reporting the saga")
  func loop() async throws {
    let payments = try Self.payments()
    let paid = try await Self.pay(payments)
    let clock = TestClock()
    let sweeper = StuckSagaSweeper(
      payments: payments,
      settings: SweeperSettings(stuckAfter: .seconds(60), interval: .seconds(15), maxRepublish: 3),
      clock: SagaClock(clock), logger: Self.silent)
    let task = Task { try await sweeper.run() }
    defer { task.cancel() }

    // 40 intervals (600 s): due every 60 s, so three re-announcements, then the report, then
    // sweeps that find nothing new. Each advance waits for the loop to sleep after a sweep.
    for _ in 0..<40 {
      try await clock.waitForSleepers(1)
      await clock.advance(by: .seconds(15))
    }
    try await clock.waitForSleepers(1)
    #expect(sweeper.statistics.sweeps == 41)
    #expect(try await sweeper.stuckSagas().map(\.paymentId) == [paid.paymentId])
    let steps = try await payments.steps(paymentId: paid.paymentId).map(\.step)
    #expect(steps.filter { $0 == .republished }.count == 3)
    #expect(steps.filter { $0 == .stuckReported }.count == 1)
    let announcements = try await payments.database.storage.read { db in
      try db.value(Int.self, "SELECT COUNT(*) FROM outbox WHERE topic = 'reservation-completed'") ?? 0
    }
    #expect(announcements == 1 + 3)
    #expect(sweeper.statistics.stuck == 1 && sweeper.statistics.reported == 1)
    #expect(try await sweeper.stuckSagas().first?.republishCount == 3)
    task.cancel()
    try await task.value
  }
}
