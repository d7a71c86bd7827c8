import Foundation
import MetricsTestKit
import Payments
import SagaCore
import SagaTestSupport
import Testing

/// `payments.group_commit_window`: under load, the next `pay` group is taken no sooner than
/// the window after the one before, so that it gathers what arrives meanwhile; idle, a
/// request commits at once; once arrivals stop, the wait ends. On a manual clock: the waits
/// are asserted, not timed.
@Suite("Payments: pay group window", .timeLimit(.minutes(2)))
struct GroupWindowTests {
  private static let window: Duration = .milliseconds(8)

  private static func pay(_ user: Int64) -> PayRequest {
    PayRequest(userId: user, scheduleId: 2, amount: 1_000)
  }

  @Test(
    "a lone request commits at once; while requests keep coming the next group waits out the window and takes them all"
  )
  func windowGathersSteadyArrivals() async throws {
    let clock = TestClock()
    let metrics = TestMetrics()
    try await GroupHarness.run(
      window: Self.window, clock: SagaClock(clock), metrics: PaymentsMetrics(factory: metrics)
    ) { harness in
      for user in 1...9 { try await harness.service.addUser(id: Int64(user), initialBalance: 100_000) }
      // Idle: no wait on the clock (a test clock that nobody advances would hold it forever).
      _ = try await harness.service.pay(PayRequest(userId: 1, scheduleId: 1, amount: 1_000))
      #expect(clock.sleepers.isEmpty)

      // At t+1ms the plug's group is taken and held at the writer; user 2 queues behind it.
      await clock.advance(by: .milliseconds(1))
      var queued = try await harness.queueBehindPlug([Self.pay(2)])
      try await queued.releasePlug()
      try await clock.waitForSleepers(1)
      let groupsBefore = harness.service.payStatistics.groups
      // One request a millisecond: the writer keeps waiting, up to the window's end at t+9ms.
      for user in 3...9 {
        await clock.advance(by: .milliseconds(1))
        try await queued.add(Self.pay(Int64(user)), to: harness.service)
      }
      #expect(clock.now == TestClock.Instant(offset: .milliseconds(8)))
      #expect(harness.service.payStatistics.groups == groupsBefore)

      await clock.advance(by: .milliseconds(1))
      let results = await queued.results()
      #expect(results.allSatisfy { (try? $0.get())?.status == .paid })
      let statistics = harness.service.payStatistics
      #expect(statistics.groups == groupsBefore + 1 && statistics.largestGroup == 8)
      #expect(statistics.windowWaits == 1)
      #expect(metrics.counterTotal(label: PaymentsMetrics.payGroupWindowWaits) == 1)
      #expect(harness.commits.all.suffix(2) == [1, 8])
      #expect(try await harness.service.verify() == [])
    }
  }

  @Test("once arrivals stop (callers waiting for their answers), the group goes before the window's end")
  func stoppedArrivalsEndTheWait() async throws {
    let clock = TestClock()
    try await GroupHarness.run(window: Self.window, clock: SagaClock(clock)) { harness in
      for user in 1...3 { try await harness.service.addUser(id: Int64(user), initialBalance: 100_000) }
      _ = try await harness.service.pay(PayRequest(userId: 1, scheduleId: 1, amount: 1_000))
      await clock.advance(by: .milliseconds(1))
      // Everyone queued at t+1ms, and nobody else comes.
      let queued = try await harness.queueBehindPlug([Self.pay(2), Self.pay(3)])
      try await queued.releasePlug()
      try await clock.waitForSleepers(1)
      let wake = try #require(clock.sleepers.first)
      #expect(wake > clock.now && wake < TestClock.Instant(offset: .milliseconds(9)), "\(wake)")

      await clock.advance(by: wake - clock.now)
      let results = await queued.results()
      #expect(results.allSatisfy { (try? $0.get())?.status == .paid })
      #expect(clock.now < TestClock.Instant(offset: .milliseconds(9)))
      #expect(harness.service.payStatistics.windowWaits == 1 && harness.service.payStatistics.largestGroup == 2)
    }
  }

  @Test("a full group waiting does not wait for the window")
  func fullGroupGoesAtOnce() async throws {
    let clock = TestClock()
    try await GroupHarness.run(window: Self.window, clock: SagaClock(clock), maxGroupSize: 2) { harness in
      for user in 1...2 { try await harness.service.addUser(id: Int64(user), initialBalance: 100_000) }
      // Two queued behind the plug fill a group: taken as soon as the plug's commits, at t+0.
      let results = try await harness.payInOneGroup([Self.pay(1), Self.pay(2)])
      #expect(results.allSatisfy { (try? $0.get())?.status == .paid })
      #expect(harness.service.payStatistics.windowWaits == 0)
      #expect(harness.service.payStatistics.largestGroup == 2)
      #expect(clock.now == TestClock.Instant(offset: .zero))
    }
  }
}
