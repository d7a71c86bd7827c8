import AdminProtocol
import Foundation
import SagaCore
import SagaRuntime
import SagaTestSupport
import ServiceLifecycle
import Synchronization
import Testing

@testable import SagaDaemon

/// A stand-in consume worker: runs until stopped, pauses on request.
private final class FakeWorker: PausableService, Sendable {
  private let paused = Mutex(false)
  var isPaused: Bool { paused.withLock { $0 } }
  func pause() async throws { paused.withLock { $0 = true } }
  func resume() async throws { paused.withLock { $0 = false } }
  func run() async throws {
    while !Task.isCancelled && !Task.isShuttingDownGracefully { try? await Task.sleep(for: .milliseconds(10)) }
  }
}

/// Throws until `fixed`, then runs until stopped.
private final class FlakyService: Service, Sendable {
  let fixed = Mutex(false)
  struct Broken: Error, CustomStringConvertible {
    var description: String { "broken pipe" }
  }
  func run() async throws {
    guard fixed.withLock({ $0 }) else { throw Broken() }
    while !Task.isCancelled && !Task.isShuttingDownGracefully { try? await Task.sleep(for: .milliseconds(10)) }
  }
}

/// `failpoint set|clear|list`, `pause`, `resume`, `restart` and the task table of
/// `workers`, over the admin commands with a supervisor of stand-in tasks.
@Suite("Admin: failpoints and supervised tasks", .timeLimit(.minutes(2)))
struct AdminOperationsTests {
  private func commands(failpoints: Failpoints?, supervisor: Supervisor? = nil) -> AdminCommands {
    var commands = AdminCommands(version: "9.9.9", roles: [], payments: nil, points: nil, pay: nil)
    commands.failpoints = failpoints
    commands.supervisor = supervisor
    return commands
  }

  private func decode<T: Decodable>(_ type: T.Type, _ reply: AdminReply) throws -> T {
    try JSONDecoder().decode(type, from: Data(try #require(reply.json).utf8))
  }

  @Test("levels: set is admin (crash aborts sagad), clear/pause/resume/restart operate, list read")
  func levels() {
    #expect(AdminCommand.failpointSet.level == .admin)
    #expect(AdminCommand.failpointClear.level == .operate)
    #expect(AdminCommand.failpointList.level == .read)
    for command in [AdminCommand.pause, .resume, .restart] { #expect(command.level == .operate) }
    #expect(AdminCommand.failpointSet.usage == "failpoint set <name> <action> [--count N] [--probability P]")
  }

  @Test("failpoint set, list (table and JSON), clear one, clear --all; bad input is a usage error")
  func failpoints() async throws {
    let failpoints = Failpoints(enabled: true)
    let commands = commands(failpoints: failpoints)
    func run(_ line: String) async throws -> AdminReply { await commands.execute(try AdminRequest.parse(line)) }

    let set = try await run("failpoint set points.reward error(transient) --count 2")
    #expect(set.code == .ok)
    #expect(set.text == "failpoint points.reward armed: error(transient), count 2")
    #expect(try await run("failpoint set db.commit delay(5) --probability 0.5").code == .ok)
    #expect(throws: SagaError.self) { try failpoints.hit(.pointsReward) }

    let list = try decode(AdminJSON.Failpoints.self, try await run("failpoint list --json"))
    #expect(list.enabled)
    #expect(list.failpoints.map(\.name) == ["db.commit", "points.reward"])
    let reward = list.failpoints[1]
    #expect(reward.action == "error(transient)")
    #expect(reward.trigger == "count")
    #expect(reward.count == 2 && reward.remaining == 1 && reward.hits == 1 && reward.fired == 1)
    #expect(list.failpoints[0].probability == 0.5)
    let table = try await run("failpoint list")
    #expect(table.text.hasPrefix("2 armed; known: points.reward, payments.refund"))
    #expect(table.lines.contains { $0.text == "points.reward\terror(transient)\tcount 2\t1\t1\t1" })

    let unknown = try await run("failpoint set points.rewrad crash")
    #expect(unknown.code == .usage)
    #expect(unknown.text.contains("consumer.before_offset_commit"))
    #expect(try await run("failpoint set points.reward explode").code == .usage)
    #expect(try await run("failpoint set points.reward crash --probability 2").code == .usage)
    #expect(try await run("failpoint set points.reward crash --count 1 --probability 0.5").code == .usage)
    #expect(try await run("failpoint clear").code == .usage)

    #expect(try await run("failpoint clear points.reward").text == "failpoint points.reward cleared")
    #expect(try await run("failpoint clear points.reward").text == "failpoint points.reward was not armed")
    #expect(try await run("failpoint clear --all").text == "1 failpoints cleared")
    #expect(failpoints.list().isEmpty)
  }

  @Test("with failpoints disabled, set is refused and list says so")
  func disabled() async throws {
    for commands in [commands(failpoints: nil), commands(failpoints: Failpoints(enabled: false))] {
      let set = await commands.execute(try AdminRequest.parse("failpoint set outbox.publish crash"))
      #expect(set.code == .refused)
      #expect(set.text == "failpoints are disabled: set failpoints.enabled")
      let list = await commands.execute(try AdminRequest.parse("failpoint list --json"))
      #expect(try decode(AdminJSON.Failpoints.self, list) == AdminJSON.Failpoints(enabled: false, failpoints: []))
    }
  }

  @Test("workers shows each task's state, restarts and last error; pause, resume, restart")
  func tasks() async throws {
    let worker = FakeWorker()
    let flaky = FlakyService()
    var settings = SupervisorSettings()
    settings.maxRestarts = 1
    settings.initialBackoff = .milliseconds(10)
    // Wall time half a millisecond past a whole second, so that the shown milliseconds are
    // exact; no jitter, so that the back-off is exactly 10 ms.
    let clock = TestClock()
    let supervisor = Supervisor(
      children: [
        SupervisedChild(name: "relay-points", kind: .relay, service: flaky),
        SupervisedChild(name: "points", kind: .consumeWorker, service: worker),
      ], settings: settings, random: { 0.5 },
      clock: SagaClock(clock, date: Date(timeIntervalSince1970: 1_767_225_600.000_5)), logger: quietLogger)
    let group = ServiceGroup(
      configuration: ServiceGroupConfiguration(services: supervisor.services, logger: quietLogger))
    let task = Task { try await group.run() }
    defer { task.cancel() }
    let commands = commands(failpoints: nil, supervisor: supervisor)
    func run(_ line: String) async throws -> AdminReply { await commands.execute(try AdminRequest.parse(line)) }

    // The first failure: in back-off, with the next start shown.
    try await clock.waitForSleepers("relay-points in back-off") { $0.count == 1 }
    let backingOff = try decode(AdminJSON.Workers.self, try await run("workers --json")).tasks[0]
    #expect(backingOff.state == "backoff")
    #expect(backingOff.lastErrorAt == "2026-01-01T00:00:00.000Z")
    #expect(backingOff.nextStartAt == "2026-01-01T00:00:00.010Z")
    await clock.advance(by: settings.initialBackoff)

    // The second failure is one more than max_restarts allows.
    try await eventually("the flaky task failed") { supervisor.snapshot("relay-points")?.state == .failed }
    let workers = try decode(AdminJSON.Workers.self, try await run("workers --json"))
    #expect(workers.tasks.map(\.name) == ["relay-points", "points"])
    #expect(workers.tasks[0].state == "failed")
    #expect(workers.tasks[0].kind == "relay")
    #expect(workers.tasks[0].restarts == 1)
    #expect(workers.tasks[0].lastError == "broken pipe")
    #expect(workers.tasks[0].lastErrorAt == "2026-01-01T00:00:00.010Z")
    #expect(workers.tasks[0].nextStartAt == nil)
    #expect(workers.tasks[1].state == "running")
    let table = try await run("workers")
    #expect(table.lines.contains { $0.text.hasPrefix("relay-points\trelay\tfailed\t1\tbroken pipe\t") })

    let paused = try decode(AdminJSON.TaskChanged.self, try await run("pause points --json"))
    #expect(paused.task.state == "paused")
    #expect(worker.isPaused)
    #expect(try await run("resume points").text == "points resumed")
    #expect(!worker.isPaused)
    #expect(try await run("pause relay-points").code == .usage, "only consume workers pause")
    let missing = try await run("restart nosuch")
    #expect(missing.code == .notFound)
    #expect(missing.text.contains("relay-points, points"))

    flaky.fixed.withLock { $0 = true }
    #expect(try await run("restart relay-points").code == .ok)
    try await eventually("the restarted task running") { supervisor.snapshot("relay-points")?.state == .running }
    let status = try decode(AdminJSON.Status.self, try await run("status --json"))
    #expect(status.tasks.map(\.state) == ["running", "running"])
  }
}
