import SagaCore
import SagaTestSupport
import Testing

@testable import SagaRuntime

/// The relay's wake-up (`Wakeup`): a signal or nudge ends the one wait, or is kept for the next;
/// a timeout ends it on the clock it was given, by a timer that consecutive waits share; only a
/// signal asks for a read.
@Suite("Wakeup", .timeLimit(.minutes(1)))
struct WakeupTests {
  /// A test clock, the one `SagaClock` over it that every wait uses (a wake-up's timed waits share
  /// a clock), and the wake-up.
  let clock = TestClock()
  let saga: SagaClock
  let wakeup = Wakeup()

  init() { saga = SagaClock(clock) }

  @Test("a signal before the wait is kept: the wait returns at once, without a timer, and asks once")
  func signalBeforeWait() async throws {
    wakeup.signal()
    #expect(wakeup.isSignalled)
    await wakeup.wait(timeout: .seconds(60), clock: saga)
    #expect(!wakeup.isSignalled, "the wait took the signal")
    #expect(clock.sleepers.isEmpty, "no timer for a wait that did not wait")
    #expect(wakeup.takeSignal())
    #expect(!wakeup.takeSignal(), "asked once per signal")
  }

  @Test("a signal during the wait ends it before its timeout; the timer, kept for the next wait, ends at its deadline")
  func signalDuringWait() async throws {
    let waiting = try await self.waiting()
    wakeup.signal()
    await waiting.value
    #expect(clock.now == TestClock.Instant(offset: .zero), "ended by the signal, not by time")
    #expect(wakeup.takeSignal())
    #expect(clock.sleepers == [TestClock.Instant(offset: .seconds(60))])
    await clock.advance(by: .seconds(60))
    try await clock.waitForSleepers("the timer gone, nobody waiting") { $0.isEmpty }
  }

  @Test("consecutive waits share one timer, which moves on to the later deadline when it fires")
  func sharedTimer() async throws {
    let first = try await waiting(timeout: .milliseconds(50))
    wakeup.signal()
    await first.value
    #expect(wakeup.takeSignal())
    await clock.advance(by: .milliseconds(10))
    let second = try await waiting(timeout: .milliseconds(50), timers: [.init(offset: .milliseconds(50))])
    await clock.advance(by: .milliseconds(40))
    try await clock.waitForSleepers("the timer moved to the second wait's deadline") {
      $0 == [.init(offset: .milliseconds(60))]
    }
    #expect(wakeup.isWaiting, "the first wait's deadline does not end the second")
    await clock.advance(by: .milliseconds(10))
    await second.value
    #expect(clock.sleepers.isEmpty)
    #expect(!wakeup.takeSignal(), "a timeout asks for nothing")
  }

  @Test("a timeout shorter than the armed timer's gets a timer of its own; the other is cancelled")
  func shorterTimeout() async throws {
    let first = try await waiting()
    wakeup.nudge()
    await first.value
    let second = try await waiting(timeout: .seconds(1))
    await clock.advance(by: .seconds(1))
    await second.value
    #expect(clock.sleepers.isEmpty)
  }

  @Test("cancelTimer ends the timer kept for the next wait, and not one a wait needs")
  func cancelTimer() async throws {
    let first = try await waiting()
    wakeup.signal()
    await first.value
    wakeup.cancelTimer()
    try await clock.waitForSleepers("the timer cancelled") { $0.isEmpty }
    let second = try await waiting(timeout: .seconds(5))
    wakeup.cancelTimer()
    #expect(clock.sleepers == [.init(offset: .seconds(5))], "a timed wait keeps its timer")
    await clock.advance(by: .seconds(5))
    await second.value
  }

  @Test("without a signal the wait ends when its clock passes the timeout, not before")
  func timeout() async throws {
    let waiting = try await self.waiting(timeout: .milliseconds(50))
    await clock.advance(by: .milliseconds(49))
    #expect(clock.sleepers.count == 1, "1 ms early, still waiting")
    await clock.advance(by: .milliseconds(1))
    await waiting.value
    #expect(clock.sleepers.isEmpty)
    #expect(!wakeup.takeSignal(), "a timeout asks for nothing")
    #expect(!wakeup.isSignalled)
  }

  @Test("a nudge ends the wait without asking for a read")
  func nudge() async throws {
    let waiting = try await self.waiting()
    wakeup.nudge()
    await waiting.value
    #expect(!wakeup.takeSignal())
  }

  @Test("cancelling the waiting task ends its wait")
  func cancellation() async throws {
    let waiting = try await self.waiting()
    waiting.cancel()
    await waiting.value
    // The next wait is not ended by the cancelled one's leftovers.
    let next = try await self.waiting(timeout: .seconds(5))
    #expect(wakeup.isWaiting)
    wakeup.signal()
    await next.value
  }

  /// A task waiting on the wake-up, returned once it waits and the clock's sleepers are
  /// `timers` (by default only this wait's timer).
  private func waiting(timeout: Duration = .seconds(60), timers: [TestClock.Instant]? = nil) async throws -> Task<
    Void, Never
  > {
    let timers = timers ?? [clock.now + timeout]
    let (wakeup, saga) = (self.wakeup, self.saga)
    let task = Task { await wakeup.wait(timeout: timeout, clock: saga) }
    try await eventually("the wait begun") { wakeup.isWaiting }
    try await clock.waitForSleepers("the wait's timers") { $0.sorted() == timers.sorted() }
    return task
  }
}
