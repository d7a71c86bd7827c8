import AdminProtocol
import Foundation
import SagaTestSupport
import Synchronization
import Testing

/// One `sagad --config` process of a reliability scenario against a `sagad dev-broker`:
/// its own state directory and admin socket, failpoints enabled, and retry and sweeper
/// settings short enough that sagas heal within seconds. It can be SIGKILLed and started
/// again on the same state, as often as a scenario likes.
final class ReliabilityNode: Sendable {
  let name: String
  let directory: TemporaryDirectory
  let configPath: String
  /// Where the databases live: the node's directory unless a scenario puts them elsewhere.
  let stateDirectory: String
  /// The current process, if started.
  private let current = Mutex<ChildProcess?>(nil)

  var child: ChildProcess? { current.withLock { $0 } }
  var socket: String { directory.path + "/sagad.sock" }
  var isRunning: Bool { child?.isRunning ?? false }

  /// Writes the configuration; nothing runs until `start`. `roles` as in `roles:`;
  /// `stateDirectory` (a storage-fault scenario's own filesystem) defaults to the node's directory.
  init(
    name: String, broker: String, roles: [String] = ["payments", "points"], stateDirectory: String? = nil,
    extraConfig: String = ""
  ) throws {
    self.name = name
    directory = try TemporaryDirectory()
    configPath = directory.path + "/sagad.yaml"
    self.stateDirectory = stateDirectory ?? directory.path
    // A short session timeout: a SIGKILLed process never leaves its groups, and the next
    // one gets their partitions only when the broker gives up on it. Short retry and
    // sweeper times let a saga whose event was lost in a crash heal within the test.
    try """
    roles: [\(roles.joined(separator: ", "))]
    kafka:
      brokers: "\(broker)"
      consumer:
        session.timeout.ms: 6000
        heartbeat.interval.ms: 500
    state_dir: "\(self.stateDirectory)"
    failpoints:
      enabled: true
    retry:
      attempts: 3
      initial_delay: 100ms
      max_delay: 1s
    sweeper:
      stuck_after: 5s
      interval: 1s
      max_republish: 50
    outbox:
      idle_interval: 100ms
    admin:
      socket: "\(directory.path)/sagad.sock"
    log:
      level: warning
    metrics:
      listen: "127.0.0.1:0"
    \(extraConfig)
    """.write(toFile: configPath, atomically: true, encoding: .utf8)
  }

  /// Starts sagad and waits until its admin socket answers.
  func start() async throws {
    precondition(!isRunning, "\(name) is already running")
    let child = try ChildProcess(try sagadBinary(), ["--config", configPath], pipeStdin: false)
    current.withLock { $0 = child }
    try await waitForAdminSocket(socket, of: child)
  }

  /// SIGKILL, as a crash: no drain, no clean group leave.
  func crash() async throws {
    guard let child else { return }
    child.signal(SIGKILL)
    try await eventually("\(name) (pid \(child.pid)) to die") { !child.isRunning }
  }

  /// SIGTERM and a clean exit (status 0), so the databases can be read afterwards.
  func stop() async throws {
    guard let child, child.isRunning else { return }
    child.signal(SIGTERM)
    let status = try await child.waitForExit(timeout: .seconds(30))
    #expect(status == 0, "\(name) exited with \(status): \(child.stderr.text.suffix(2000))")
  }

  /// A fresh admin connection.
  func connect() async throws -> AdminTestClient {
    try await AdminTestClient.connect(socket, timeout: .seconds(30))
  }

  /// The end of the current process's stderr, for failure messages.
  var stderrTail: String { child.map { String($0.stderr.text.suffix(3000)) } ?? "" }

  /// The safety net for a `defer`.
  func killIfRunning() { child?.killIfRunning() }
}

/// Decodes the `1002` document of a `--json` reply.
func decodeReply<T: Decodable>(_ type: T.Type, _ reply: AdminReply) throws -> T {
  guard reply.code == .ok, let json = reply.json else {
    throw TestFailure("expected a JSON reply, got \(reply.lines.map(\.description))")
  }
  return try JSONDecoder().decode(type, from: Data(json.utf8))
}
