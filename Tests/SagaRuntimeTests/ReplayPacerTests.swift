import SagaCore
import SagaTestSupport
import Testing

@testable import SagaRuntime

@Suite("Dead-letter replay pacing", .timeLimit(.minutes(1)))
struct ReplayPacerTests {
  @Test("replays take slots an interval apart, also across concurrent replays; after a pause one goes at once")
  func slotsAreSpaced() async throws {
    let clock = TestClock()
    let interval = Duration.milliseconds(100)
    let pacer = ReplayPacer(interval: interval, clock: SagaClock(clock))
    try await pacer.waitForSlot()
    #expect(clock.sleepers.isEmpty, "the first replay does not wait")

    // Three more at once (three operators replaying): one slot each, in line behind the first.
    let waiting = (0..<3).map { _ in Task { try await pacer.waitForSlot() } }
    let slots = [1, 2, 3].map { TestClock.Instant(offset: interval * $0) }
    try await clock.waitForSleepers("three replays waiting for their slots") { $0 == slots }
    await clock.advance(by: interval)
    #expect(clock.sleepers == Array(slots.dropFirst()), "one slot passed, one replay went")
    await clock.advance(by: interval * 2)
    #expect(clock.sleepers.isEmpty)
    for task in waiting { try await task.value }

    // Idle for longer than an interval: the next replay goes at once again.
    await clock.advance(by: .seconds(1))
    try await pacer.waitForSlot()
    #expect(clock.sleepers.isEmpty)
  }

  @Test("a zero interval (no finite replay rate) never waits")
  func unlimited() async throws {
    let clock = TestClock()
    let pacer = ReplayPacer(interval: .zero, clock: SagaClock(clock))
    for _ in 0..<100 { try await pacer.waitForSlot() }
    #expect(clock.sleepers.isEmpty)
  }
}
