import Foundation
import Payments
import SagaCore
import SagaTestSupport
import Testing

/// `payments.group_commit_window`: under load, the next `pay` group is taken no sooner than
/// the window after the one before, so that it gathers what arrives meanwhile; idle, a
/// request commits at once. On a manual clock: the waits are asserted, not timed.
@Suite("Payments: pay group window", .timeLimit(.minutes(2)))
struct GroupWindowTests {
  @Test("a lone request commits at once; under load the next group waits out the window and takes all that queued")
  func windowGathersUnderLoad() async throws {
    let clock = TestClock()
    try await GroupHarness.run(window: .milliseconds(8), clock: SagaClock(clock)) { harness in
      for user in 1...3 { try await harness.service.addUser(id: Int64(user), initialBalance: 100_000) }
      // Idle: no wait on the clock (a test clock that nobody advances would hold it forever).
      _ = try await harness.service.pay(PayRequest(userId: 1, scheduleId: 1, amount: 1_000))
      #expect(clock.sleepers.isEmpty)

      // The plug's group is taken at t+0 and held at the writer; two requests queue behind it.
      var queued = try await harness.queueBehindPlug([
        PayRequest(userId: 1, scheduleId: 2, amount: 1_000), PayRequest(userId: 2, scheduleId: 2, amount: 1_000),
      ])
      try await queued.releasePlug()
      // The plug's group has committed; the writer waits until t+8ms instead of taking the two.
      try await clock.waitForSleepers(1)
      #expect(clock.sleepers == [TestClock.Instant(offset: .milliseconds(8))])
      let groupsBefore = harness.service.payStatistics.groups
      try await queued.add(PayRequest(userId: 3, scheduleId: 2, amount: 1_000), to: harness.service)
      #expect(harness.service.payStatistics.groups == groupsBefore)

      await clock.advance(by: .milliseconds(8))
      let results = await queued.results()
      #expect(results.allSatisfy { (try? $0.get())?.status == .paid })
      let statistics = harness.service.payStatistics
      #expect(statistics.groups == groupsBefore + 1 && statistics.largestGroup == 3)
      #expect(statistics.windowWaits == 1)
      #expect(harness.commits.all.suffix(2) == [1, 3])
      #expect(try await harness.service.verify() == [])
    }
  }

  @Test("a full group waiting does not wait for the window")
  func fullGroupGoesAtOnce() async throws {
    let clock = TestClock()
    try await GroupHarness.run(window: .milliseconds(8), clock: SagaClock(clock), maxGroupSize: 2) { harness in
      for user in 1...2 { try await harness.service.addUser(id: Int64(user), initialBalance: 100_000) }
      // Two queued behind the plug fill a group: taken as soon as the plug's commits, at t+0.
      let results = try await harness.payInOneGroup([
        PayRequest(userId: 1, scheduleId: 1, amount: 1_000), PayRequest(userId: 2, scheduleId: 1, amount: 1_000),
      ])
      #expect(results.allSatisfy { (try? $0.get())?.status == .paid })
      #expect(harness.service.payStatistics.windowWaits == 0)
      #expect(harness.service.payStatistics.largestGroup == 2)
      #expect(clock.now == TestClock.Instant(offset: .zero))
    }
  }
}
