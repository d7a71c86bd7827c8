import AdminProtocol
import Foundation
import Logging
import Payments
import Points
import SagaStorage
import SagaTestSupport
import Testing

@testable import SagaDaemon

/// `log-level`, `drain`, `shutdown` and `lag` on bare databases, and the lag judgement.
@Suite("Daemon admin commands", .timeLimit(.minutes(2)))
struct DaemonAdminCommandsTests {
  private func makeCommands(_ directory: TemporaryDirectory, daemon: DaemonAdmin?) throws -> AdminCommands {
    var commands = try AdminCommands.onBareDatabases(in: directory)
    commands.daemon = daemon
    return commands
  }

  private func send(_ commands: AdminCommands, _ line: String) async throws -> AdminReply {
    await commands.execute(try AdminRequest.parse(line))
  }

  @Test("log-level shows and changes the live level; a bad level is a usage error")
  func logLevel() async throws {
    let directory = try TemporaryDirectory()
    let commands = try makeCommands(directory, daemon: nil)
    let before = LiveLogLevel.current
    defer { LiveLogLevel.current = before }
    LiveLogLevel.current = .info
    #expect(try await send(commands, "log-level").text == "log level is info")
    #expect(try await send(commands, "log-level debug").text == "log level changed from info to debug")
    #expect(LiveLogLevel.current == .debug)
    // Every logger follows at once: the level lives in the backend, not in each Logger.
    #expect(Logger(label: "x", factory: DaemonLogHandler.init(label:)).logLevel == .debug)
    #expect(try await send(commands, "log-level loud").code == .usage)
    let json = try await send(commands, "log-level warning --json")
    #expect(json.json == "{\"level\":\"warning\",\"previous\":\"debug\"}")
  }

  @Test("drain: waits for the outbox, then pay is refused with 8009; an outbox that cannot empty is reported")
  func drain() async throws {
    let directory = try TemporaryDirectory()
    let control = DaemonControl(notify: SdNotify(environment: [:]), shutdownTimeout: .seconds(30), logger: quietLogger)
    let commands = try makeCommands(directory, daemon: DaemonAdmin(control: control, lag: nil))
    #expect(try await send(commands, "user add 1 --balance 1000").code == .ok)
    #expect(try await send(commands, "pay --user 1 --schedule 1 --amount 100").code == .ok)
    // No relay runs here, so the ReservationCompleted row stays: drain must say so.
    let stuck = try await send(commands, "drain --timeout 1")
    #expect(stuck.code == .unavailable)
    #expect(stuck.text.contains("payments 1"), "\(stuck.text)")
    let refused = try await send(commands, "pay --user 1 --schedule 2 --amount 100")
    #expect(refused.code == .shuttingDown)
    #expect(refused.text.contains("draining"))
    #expect(control.phase == .draining)

    let emptyDirectory = try TemporaryDirectory()
    let other = DaemonControl(notify: SdNotify(environment: [:]), shutdownTimeout: .seconds(30), logger: quietLogger)
    let idle = try makeCommands(emptyDirectory, daemon: DaemonAdmin(control: other, lag: nil))
    let drained = try await send(idle, "drain --json")
    #expect(drained.code == .ok)
    let document = try JSONDecoder().decode(AdminJSON.Drain.self, from: Data(try #require(drained.json).utf8))
    #expect(document.drained && document.paysInFlight == 0 && document.outboxPending == ["payments": 0, "points": 0])
  }

  @Test("drain and shutdown need the daemon; lag without statistics is an empty OK table")
  func withoutDaemon() async throws {
    let directory = try TemporaryDirectory()
    let commands = try makeCommands(directory, daemon: nil)
    #expect(try await send(commands, "drain").code == .unavailable)
    #expect(try await send(commands, "shutdown").code == .unavailable)
    let lag = try await send(commands, "lag")
    #expect(lag.lines.map(\.code) == [.header, .ok])
    #expect(try await send(commands, "help lag").code == .ok)
  }

  @Test("lag status: ERR when lag grows through a full window with committed still, WARN when it grows, else OK")
  func lagStatus() {
    typealias Sample = LagEvaluation.Sample
    func samples(_ lags: [Int64], committed: [Int64]) -> [Sample] {
      zip(lags, committed).map { Sample(lag: $0, committed: $1, highWatermark: $0 + $1) }
    }
    let window = 5
    #expect(
      LagEvaluation.status(of: samples([1, 2, 3, 4, 5], committed: [10, 10, 10, 10, 10]), window: window) == .err)
    // Growing but the consumer commits: falling behind, not stuck.
    #expect(
      LagEvaluation.status(of: samples([1, 2, 3, 4, 5], committed: [10, 11, 12, 13, 14]), window: window) == .warn)
    // Not a full window yet: at most WARN.
    #expect(LagEvaluation.status(of: samples([1, 2, 3], committed: [10, 10, 10]), window: window) == .warn)
    #expect(
      LagEvaluation.status(of: samples([5, 4, 3, 2, 1], committed: [10, 11, 12, 13, 14]), window: window) == .ok)
    #expect(
      LagEvaluation.status(of: samples([0, 0, 0, 0, 0], committed: [10, 10, 10, 10, 10]), window: window) == .ok)
    #expect(
      LagEvaluation.status(of: samples([3, 3, 3, 3, 3], committed: [10, 10, 10, 10, 10]), window: window) == .ok)
    // Only the last `window` samples count.
    #expect(
      LagEvaluation.status(of: samples([9, 1, 2, 3, 4, 5], committed: [9, 10, 10, 10, 10, 10]), window: window) == .err)
    #expect(LagEvaluation.status(of: [], window: window) == .ok)
  }
}
