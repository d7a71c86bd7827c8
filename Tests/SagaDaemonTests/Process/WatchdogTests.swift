import Foundation
import SagaCore
import SagaTestSupport
import Testing

@testable import SagaDaemon

@Suite("systemd readiness and watchdog pings", .timeLimit(.minutes(1)))
struct WatchdogTests {
  @Test("READY=1 once the admin socket exists, then one WATCHDOG=1 per half WATCHDOG_USEC of the clock")
  func readyThenPingsEveryTick() async throws {
    let directory = try TemporaryDirectory()
    let systemd = try NotifyListener(path: directory.path + "/notify.sock")
    defer { systemd.close() }
    let notify = SdNotify(environment: ["NOTIFY_SOCKET": systemd.path, "WATCHDOG_USEC": "2000000"])
    let control = DaemonControl(notify: notify, shutdownTimeout: .seconds(5), logger: quietLogger)
    let clock = TestClock()
    let socket = directory.path + "/admin.sock"
    var watchdog = Watchdog(
      control: control, workers: [], supervisor: nil, adminSocket: socket, logger: quietLogger)
    watchdog.clock = SagaClock(clock)
    let task = Task { [watchdog] in await watchdog.run() }
    defer { task.cancel() }
    func pings() -> Int { systemd.fields.count { $0 == "WATCHDOG=1" } }

    // No admin socket yet: not ready, and it looks again 50 ms later on the clock.
    let recheck = TestClock.Instant(offset: .milliseconds(50))
    try await clock.waitForSleepers("the readiness check waiting") { $0 == [recheck] }
    #expect(control.phase == .starting)
    // Any socket file will do: the watchdog only checks that one is there.
    let admin = try NotifyListener(path: socket)
    defer { admin.close() }
    await clock.advance(by: .milliseconds(50))

    // Ready (no workers to wait for), then a tick every second: half of WATCHDOG_USEC.
    let firstTick = recheck + .seconds(1)
    try await clock.waitForSleepers("the first tick") { $0 == [firstTick] }
    #expect(control.phase == .ready)
    try await eventually("READY=1 at systemd") { systemd.fields.contains("READY=1") }
    #expect(pings() == 0, "no ping before the first tick")
    for tick in 1...2 {
      await clock.advance(by: .seconds(1))
      let next = firstTick + .seconds(tick)
      try await clock.waitForSleepers("tick \(tick + 1)") { $0 == [next] }
      try await eventually("ping \(tick) at systemd") { pings() == tick }
    }
  }
}
