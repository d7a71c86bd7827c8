import SagaCore
import SagaTestSupport
import Testing

@testable import SagaRuntime

/// The relay's wake-up (`Wakeup`): a signal or nudge ends the one wait, or is kept for the next;
/// a timeout ends it on the clock it was given; only a signal asks for a read.
@Suite("Wakeup", .timeLimit(.minutes(1)))
struct WakeupTests {
  @Test("a signal before the wait is kept: the wait returns at once, without a timer, and asks once")
  func signalBeforeWait() async throws {
    let clock = TestClock()
    let wakeup = Wakeup()
    wakeup.signal()
    #expect(wakeup.isSignalled)
    await wakeup.wait(timeout: .seconds(60), clock: SagaClock(clock))
    #expect(!wakeup.isSignalled, "the wait took the signal")
    #expect(clock.sleepers.isEmpty, "no timer for a wait that did not wait")
    #expect(wakeup.takeSignal())
    #expect(!wakeup.takeSignal(), "asked once per signal")
  }

  @Test("a signal during the wait ends it before its timeout, and its timer with it")
  func signalDuringWait() async throws {
    let clock = TestClock()
    let wakeup = Wakeup()
    let waiting = try await Self.waiting(wakeup, on: clock)
    wakeup.signal()
    await waiting.value
    try await clock.waitForSleepers("the timer gone") { $0.isEmpty }
    #expect(clock.now == TestClock.Instant(offset: .zero), "ended by the signal, not by time")
    #expect(wakeup.takeSignal())
  }

  @Test("without a signal the wait ends when its clock passes the timeout, not before")
  func timeout() async throws {
    let clock = TestClock()
    let wakeup = Wakeup()
    let waiting = try await Self.waiting(wakeup, on: clock, timeout: .milliseconds(50))
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
    let clock = TestClock()
    let wakeup = Wakeup()
    let waiting = try await Self.waiting(wakeup, on: clock)
    wakeup.nudge()
    await waiting.value
    #expect(!wakeup.takeSignal())
  }

  @Test("cancelling the waiting task ends its wait")
  func cancellation() async throws {
    let clock = TestClock()
    let wakeup = Wakeup()
    let waiting = try await Self.waiting(wakeup, on: clock)
    waiting.cancel()
    await waiting.value
    // The next wait is not ended by the cancelled one's leftovers.
    let next = try await Self.waiting(wakeup, on: clock, timeout: .seconds(5))
    wakeup.signal()
    await next.value
  }

  /// A task waiting on `wakeup`, returned once its timer sleeps on `clock`.
  private static func waiting(
    _ wakeup: Wakeup, on clock: TestClock, timeout: Duration = .seconds(60)
  ) async throws -> Task<Void, Never> {
    let task = Task { await wakeup.wait(timeout: timeout, clock: SagaClock(clock)) }
    try await clock.waitForSleepers("the wait's timer") { $0.count == 1 }
    return task
  }
}
