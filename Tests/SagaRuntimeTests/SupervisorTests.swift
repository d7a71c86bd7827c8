import Foundation
import Logging
import MetricsTestKit
import SagaCore
import SagaRuntime
import SagaTestSupport
import ServiceLifecycle
import Synchronization
import Testing

/// Names in the order their tasks stopped.
private final class StopOrder: Sendable {
  let names = Mutex<[String]>([])
}

/// A child that records each start (the instant on `clock`); it throws while `failing` is
/// set, otherwise counts progress until it is asked to stop.
private final class ScriptedService: Service, Sendable {
  struct Boom: Error, CustomStringConvertible {
    var description: String { "boom" }
  }

  let failing: Mutex<Bool>
  let starts = Mutex<[TestClock.Instant]>([])
  let progress = Atomic<Int>(0)
  let stopOrder: StopOrder?
  let name: String
  let clock: TestClock

  init(name: String, failing: Bool, stopOrder: StopOrder? = nil, clock: TestClock = TestClock()) {
    self.name = name
    self.failing = Mutex(failing)
    self.stopOrder = stopOrder
    self.clock = clock
  }

  var startCount: Int { starts.withLock { $0.count } }

  func run() async throws {
    starts.withLock { $0.append(clock.now) }
    if failing.withLock({ $0 }) { throw Boom() }
    while !Task.isCancelled && !Task.isShuttingDownGracefully {
      progress.add(1, ordering: .relaxed)
      try? await Task.sleep(for: .milliseconds(5))
    }
    stopOrder?.names.withLock { $0.append(name) }
  }
}

@Suite("Supervisor", .timeLimit(.minutes(2)))
struct SupervisorTests {
  private func settings() -> SupervisorSettings {
    var settings = SupervisorSettings()
    settings.maxRestarts = 3
    settings.window = .seconds(60)
    settings.initialBackoff = .milliseconds(40)
    settings.maxBackoff = .milliseconds(100)
    settings.jitter = 0.2
    return settings
  }

  @Test("back-off doubles from initialBackoff up to maxBackoff, within the jitter range")
  func backoffFormula() {
    let settings = SupervisorSettings()
    #expect(settings.maxRestarts == 5)
    #expect(settings.window == .seconds(60))
    #expect(settings.backoff(afterFailures: 1, random: 0.5) == .seconds(1))
    #expect(settings.backoff(afterFailures: 2, random: 0.5) == .seconds(2))
    #expect(settings.backoff(afterFailures: 5, random: 0.5) == .seconds(16))
    #expect(settings.backoff(afterFailures: 6, random: 0.5) == .seconds(30))
    #expect(settings.backoff(afterFailures: 60, random: 0.5) == .seconds(30))
    #expect(settings.backoff(afterFailures: 1, random: 0) == .milliseconds(800))
    #expect(settings.backoff(afterFailures: 1, random: 1) == .milliseconds(1200))
  }

  @Test("a task that keeps throwing restarts with growing delays, then fails; the others keep running")
  func failingTask() async throws {
    let clock = TestClock()
    let flaky = ScriptedService(name: "flaky", failing: true, clock: clock)
    let steady = ScriptedService(name: "steady", failing: false)
    // A metrics factory of this test's own: the process-wide one is shared by parallel tests.
    let metrics = TestMetrics()
    func restartsCounted(_ name: String, _ kind: String) -> Int64 {
      metrics.counterTotal(label: Supervisor.restartsMetric, dimensions: [("worker", name), ("kind", kind)])
    }
    // The jitter source answers 0.5: a factor of exactly 1, so the delays are exact.
    let supervisor = Supervisor(
      children: [
        SupervisedChild(name: "steady", kind: .relay, service: steady),
        SupervisedChild(name: "flaky", kind: .consumeWorker, service: flaky),
      ], settings: settings(), random: { 0.5 }, clock: SagaClock(clock), metrics: metrics, logger: silentLogger)
    let task = start(supervisor)

    // Each failure puts flaky in back-off for exactly its delay on the clock, with the
    // next start announced that long after the failure; passing the delay starts it again.
    var failedAt: [Date] = []
    for delay in [Duration.milliseconds(40), .milliseconds(80), .milliseconds(100)] {
      let restartAt = clock.now + delay
      try await clock.waitForSleepers("flaky's back-off of \(delay)") { $0 == [restartAt] }
      let backingOff = try #require(supervisor.snapshot("flaky"))
      #expect(backingOff.state == .backoff)
      let lastErrorAt = try #require(backingOff.lastErrorAt)
      let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
      #expect(backingOff.nextStartAt == lastErrorAt.addingTimeInterval(seconds))
      failedAt.append(lastErrorAt)
      await clock.advance(by: delay)
    }
    try await eventually("flaky marked failed") { supervisor.snapshot("flaky")?.state == .failed }
    let failed = try #require(supervisor.snapshot("flaky"))
    #expect(failed.backoffs == [.milliseconds(40), .milliseconds(80), .milliseconds(100)])
    #expect(failed.restarts == 3)
    #expect(failed.lastError == "boom")
    #expect(failed.nextStartAt == nil)
    #expect(clock.sleepers.isEmpty, "no back-off once failed")
    // Started once plus maxRestarts times, each start exactly its back-off after the last,
    // and the failures dated by the clock's wall time.
    #expect(
      flaky.starts.withLock { $0 }.map(\.offset) == [.zero, .milliseconds(40), .milliseconds(120), .milliseconds(220)])
    let failures = failedAt + [try #require(failed.lastErrorAt)]
    let steps = zip(failures.dropFirst(), failures).map { ($0.timeIntervalSince($1) * 1000).rounded() }
    #expect(steps == [40, 80, 100])

    // Failed means left alone: no further start, while the other task keeps making progress.
    let progress = steady.progress.load(ordering: .relaxed)
    try await eventually("steady keeps running") { steady.progress.load(ordering: .relaxed) > progress + 10 }
    #expect(flaky.startCount == 4)
    let steadySnapshot = try #require(supervisor.snapshot("steady"))
    #expect(steadySnapshot.state == .running)
    #expect(steadySnapshot.restarts == 0)
    #expect(steadySnapshot.kind == .relay)
    #expect(restartsCounted("steady", "relay") == 0 && metrics.counters(label: Supervisor.restartsMetric).count == 2)
    #expect(restartsCounted("flaky", "worker") == 3)

    // The operator fixed the cause and restarts it.
    flaky.failing.withLock { $0 = false }
    try supervisor.restart("flaky")
    try await eventually("flaky running again") {
      supervisor.snapshot("flaky")?.state == .running && flaky.progress.load(ordering: .relaxed) > 0
    }
    #expect(flaky.startCount == 5)
    #expect(supervisor.snapshot("flaky")?.restarts == 4)
    #expect(restartsCounted("flaky", "worker") == 4, "an operator restart counts too")
    #expect(throws: SagaError.self) { try supervisor.restart("nope") }
    await #expect(throws: SagaError.self) { try await supervisor.pause("steady") }
    task.cancel()
    try? await task.value
  }

  @Test("an operator restart of a running task stops it and starts it again")
  func restartRunning() async throws {
    let service = ScriptedService(name: "a", failing: false)
    let supervisor = Supervisor(
      children: [SupervisedChild(name: "a", kind: .sweeper, service: service)], settings: settings(),
      logger: silentLogger)
    let task = start(supervisor)
    try await eventually("running") { service.progress.load(ordering: .relaxed) > 0 }
    try supervisor.restart("a")
    try await eventually("started again") { service.startCount == 2 }
    try await eventually("running again") { supervisor.snapshot("a")?.state == .running }
    #expect(supervisor.snapshot("a")?.restarts == 1)
    task.cancel()
    try? await task.value
  }

  @Test("a graceful shutdown stops every task, the last listed first, also one in back-off")
  func gracefulShutdown() async throws {
    let order = StopOrder()
    let first = ScriptedService(name: "relay", failing: false, stopOrder: order)
    let second = ScriptedService(name: "worker", failing: false, stopOrder: order)
    let flaky = ScriptedService(name: "flaky", failing: true)
    // The back-off passes only when the test advances the clock, which it never does: a
    // shutdown that waited for it would fail the test by the suite's time limit.
    let clock = TestClock()
    let supervisor = Supervisor(
      children: [
        SupervisedChild(name: "relay", kind: .relay, service: first),
        SupervisedChild(name: "worker", kind: .consumeWorker, service: second),
        SupervisedChild(name: "flaky", kind: .consumeWorker, service: flaky),
      ], settings: settings(), clock: SagaClock(clock), logger: silentLogger)
    let group = ServiceGroup(
      configuration: ServiceGroupConfiguration(services: supervisor.services, logger: silentLogger))
    let task = Task { try await group.run() }
    try await clock.waitForSleepers("flaky in back-off") { $0.count == 1 }
    #expect(supervisor.snapshot("flaky")?.state == .backoff && supervisor.snapshot("flaky")?.nextStartAt != nil)
    try await eventually("the others running") {
      first.progress.load(ordering: .relaxed) > 0 && second.progress.load(ordering: .relaxed) > 0
    }
    await group.triggerGracefulShutdown()
    try await task.value
    #expect(order.names.withLock { $0 } == ["worker", "relay"])
    #expect(clock.sleepers.isEmpty, "the back-off ended with the shutdown")
    #expect(supervisor.snapshots().allSatisfy { $0.state == .stopped })
  }
}
