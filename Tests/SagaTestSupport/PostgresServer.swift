public import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A throwaway PostgreSQL server for tests (Docs/development.md, "PostgreSQL in tests"):
/// Debian's server (`scripts/install-deps.sh` installs `postgresql`), `initdb` into a fresh
/// temporary directory on a free loopback port. The server refuses to run as root, so a test
/// running as root runs it as Debian's `postgres` user. It listens on 127.0.0.1 only, trusts
/// the database user `sagad`, keeps `fsync` on (unless started with `durable: false`), and is
/// stopped by its own pid: nothing the test did not start is touched.
public final class PostgresServer: Sendable {
  public let directory: TemporaryDirectory
  public let port: Int
  /// The server's process (`postgres -D …`); a new one after `restartImmediately()`.
  private let current: Mutex<SpawnedProcess>
  private var process: SpawnedProcess { current.withLock { $0 } }
  /// The postmaster's pid.
  public var pid: pid_t { process.pid }
  /// The server's stderr, read as it comes by a thread of its own (a pipe left unread for a
  /// while fills, and every backend that logs then blocks): one per process started, so a
  /// restart keeps what the one before logged.
  private let logs: Mutex<[OutputCollector]>
  private let binaries: URL
  /// fsync on (see `start(durable:)`); a restart keeps it.
  private let durable: Bool

  /// `postgres://sagad@127.0.0.1:<port>/sagad`: a libpq URL of the test database.
  public var url: String { "postgres://sagad@127.0.0.1:\(port)/sagad" }
  public var dataDirectory: String { directory.path + "/data" }

  /// Debian's PostgreSQL programs: the highest version under /usr/lib/postgresql.
  public static func binaries() throws -> URL {
    let root = "/usr/lib/postgresql"
    let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
    guard let version = versions.compactMap(Int.init).max(),
      FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb")
    else {
      throw Failure("no \(root)/*/bin/initdb: install Debian's postgresql (scripts/install-deps.sh does)")
    }
    return URL(fileURLWithPath: "\(root)/\(version)/bin")
  }

  /// Initialises a cluster and starts the server; returns once it accepts connections and
  /// the database `sagad` exists.
  /// - Parameter durable: false for a server whose tests check behaviour, not what survives a
  ///   crash: its cluster is a copy of one made once per process (``PostgresClusterTemplate``),
  ///   kept in memory where there is a tmpfs, and nothing is fsynced (commits, `CREATE
  ///   DATABASE`, the shutdown checkpoint). initdb costs half a second of CPU, and it and each
  ///   database write tens of MB, which add up when every suite starts a server at once.
  public static func start(durable: Bool = true) async throws -> PostgresServer {
    let binaries = try binaries()
    let owner = try serverUser()
    let directory = try durable ? TemporaryDirectory() : TemporaryDirectory.inMemory()
    let data = try makeDataDirectory(in: directory, owner: owner)
    if durable {
      try await initdb(data, owner: owner, binaries: binaries)
    } else {
      let template = try await PostgresClusterTemplate.shared.dataDirectory { templateData in
        try await initdb(templateData, owner: owner, binaries: binaries)
      }
      // As the server's user, so that the copy is the server's as the original is.
      let copy = ["/bin/cp", "-a", template + "/.", data]
      let (status, output) = try await offPool {
        try SpawnedProcess.run(asServerUser(owner, copy[0]), asServerArguments(owner, copy))
      }
      guard status == .exited(0) else { throw Failure("copying the template cluster failed: \(output)") }
    }

    var lastError: (any Error)?
    // A port found free can be taken before the server binds it: try a few.
    for _ in 0..<5 {
      let port = Int(try LoopbackPort.unused())
      let (process, log) = try spawn(binaries, owner: owner, data: data, port: port, durable: durable)
      let server = PostgresServer(
        directory: directory, port: port, process: process, log: log, binaries: binaries, durable: durable)
      do {
        try await server.ready(after: 0)
        try await server.psql("CREATE DATABASE sagad", database: "postgres")
        return server
      } catch {
        lastError = error
        server.stop()
        guard server.logText.contains("Address already in use") else { throw error }
      }
    }
    throw lastError ?? Failure("postgres found no free port")
  }

  private static func spawn(
    _ binaries: URL, owner: (uid: uid_t, gid: gid_t)?, data: String, port: Int, durable: Bool
  ) throws -> (SpawnedProcess, OutputCollector) {
    var command = [
      binaries.appendingPathComponent("postgres").path, "-D", data, "-p", String(port), "-k", data, "-c",
      "listen_addresses=127.0.0.1", "-c", "fsync=\(durable ? "on" : "off")", "-c", "logging_collector=off",
    ]
    if !durable {
      // Shared memory segments in the data directory too, so that nothing outlives its removal.
      // Shared by every storage suite running at once (SharedPostgresServer): each test's pool
      // and engines hold connections, a hundred tests more than the default 100.
      command += [
        "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "dynamic_shared_memory_type=mmap",
        "-c", "max_connections=400",
      ]
    }
    let process = try SpawnedProcess(
      path: asServerUser(owner, command[0]), arguments: asServerArguments(owner, command), pipeStdin: false)
    return (process, OutputCollector(process.stderrDescriptor))
  }

  /// Waits for the `count + 1`-th "ready to accept connections" of the log (a restart logs another).
  private func ready(after count: Int) async throws {
    let marker = "database system is ready to accept connections"
    try await eventually("PostgreSQL on port \(port) to accept connections", timeout: .seconds(60)) {
      guard self.isRunning else { throw Failure("postgres exited: \(self.logText.suffix(2000))") }
      return self.logText.components(separatedBy: marker).count - 1 > count
    }
  }

  /// `directory/data`, empty, for a cluster of the server's user (`owner`, or this process's).
  static func makeDataDirectory(in directory: TemporaryDirectory, owner: (uid: uid_t, gid: gid_t)?) throws -> String {
    // The server's user must reach its data directory inside the test's private temp dir.
    chmod(directory.path, 0o711)
    let data = directory.path + "/data"
    try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: false)
    if let owner { chown(data, owner.uid, owner.gid) }
    return data
  }

  /// Runs `initdb` into `data` as the server's user: the superuser `sagad`, trusted, UTF-8.
  static func initdb(_ data: String, owner: (uid: uid_t, gid: gid_t)?, binaries: URL) async throws {
    let initdb = [
      binaries.appendingPathComponent("initdb").path, "-D", data, "-U", "sagad", "--auth=trust", "-E", "UTF8",
      "--no-sync",
    ]
    let (status, output) = try await offPool {
      try SpawnedProcess.run(asServerUser(owner, initdb[0]), asServerArguments(owner, initdb))
    }
    guard status == .exited(0) else { throw Failure("initdb failed: \(output.suffix(2000))") }
  }

  private init(
    directory: TemporaryDirectory, port: Int, process: SpawnedProcess, log: OutputCollector, binaries: URL,
    durable: Bool
  ) {
    self.directory = directory
    self.port = port
    self.current = Mutex(process)
    self.logs = Mutex([log])
    self.binaries = binaries
    self.durable = durable
  }

  /// `pg_ctl restart -m immediate`: SIGQUIT (every backend ends at once, nothing is flushed
  /// beyond what was committed), then the same cluster starts again on the same port and
  /// recovers from its WAL. Returns once it accepts connections again.
  public func restartImmediately() async throws {
    let old = process
    let readyCount = logText.components(separatedBy: "database system is ready to accept connections").count - 1
    old.signal(SIGQUIT)
    _ = try await Self.offPool { old.waitUntilExit() }
    let (next, log) = try Self.spawn(
      binaries, owner: try Self.serverUser(), data: dataDirectory, port: port, durable: durable)
    current.withLock { $0 = next }
    logs.withLock { $0.append(log) }
    try await ready(after: readyCount)
  }

  /// SIGSTOP to the server and every backend: it neither answers nor closes a connection,
  /// as a host that froze. `resume()` sends SIGCONT to the same processes.
  public func pause() -> [pid_t] {
    let pids = [pid] + Self.children(of: pid)
    for process in pids { Glibc.kill(process, SIGSTOP) }
    return pids
  }

  public func resume(_ pids: [pid_t]) {
    for process in pids { Glibc.kill(process, SIGCONT) }
  }

  /// The direct children of `parent`, from /proc.
  private static func children(of parent: pid_t) -> [pid_t] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(pid_t.init).filter { child in
      guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
      else { return false }
      // After "pid (comm) state ppid …"; comm may hold spaces, hence the last ')'.
      let fields = stat[stat.index(after: close)...].split(separator: " ")
      return fields.count > 1 && pid_t(fields[1]) == parent
    }
  }

  deinit { stop() }

  /// What the server logged so far.
  public var logText: String {
    logs.withLock { $0 }.map(\.text).joined()
  }

  public var isRunning: Bool { process.isRunning }

  /// Runs `sql` with `psql` on `database` as user `sagad`; returns what it printed
  /// (unaligned, tuples only). Throws with psql's error when it fails. psql runs on a thread
  /// of its own: a test waiting for it must not hold one of the cooperative pool's few threads.
  @discardableResult
  public func psql(_ sql: String, database: String = "sagad") async throws -> String {
    let psql = binaries.appendingPathComponent("psql").path
    let arguments = [
      "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port), "-U", "sagad", "-d",
      database, "-c", sql,
    ]
    let (status, output) = try await Self.offPool { try SpawnedProcess.run(psql, arguments) }
    guard status == .exited(0) else { throw Failure("psql failed: \(output.suffix(2000))") }
    return output.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Runs `body`, which blocks (a child process to its end), on a thread of its own rather
  /// than on Swift's cooperative pool: with two cores that pool has two threads, and every
  /// other test running meanwhile would wait for them.
  static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
      Thread { continuation.resume(with: Result { try body() }) }.start()
    }
  }

  /// Fast shutdown (SIGINT: roll back open transactions, then exit), by the server's own pid;
  /// SIGKILL if it is still there after 30 s. Idempotent.
  public func stop() {
    guard process.isRunning else { return }
    process.signal(SIGINT)
    let deadline = ContinuousClock.now + .seconds(30)
    while process.isRunning && ContinuousClock.now < deadline { usleep(20_000) }
    if process.isRunning {
      process.signal(SIGKILL)
      _ = process.waitUntilExit()
    }
  }

  /// ``stop()`` on a thread of its own, the cluster kept: ``restartImmediately()`` starts it
  /// again on the same port.
  public func halt() async {
    _ = try? await Self.offPool { self.stop() }
  }

  /// ``stop()``, then removes the cluster now rather than when the last reference goes (a task
  /// that outlives its test may hold one through a task-local). On a thread of its own: the
  /// wait for the server to exit must not hold one of the cooperative pool's few threads.
  public func shutDown() async {
    _ = try? await Self.offPool {
      self.stop()
      try? FileManager.default.removeItem(at: self.directory.url)
    }
  }

  /// Stops the server abruptly (`kill -9`): what a crash or `pg_ctl stop -m immediate` leaves.
  public func kill() {
    process.signal(SIGKILL)
    _ = process.waitUntilExit()
  }

  /// Debian's `postgres` user when the test runs as root; nil otherwise (the server runs as
  /// the test's own user).
  static func serverUser() throws -> (uid: uid_t, gid: gid_t)? {
    guard geteuid() == 0 else { return nil }
    guard let entry = getpwnam("postgres") else {
      throw Failure("no user postgres to run the server as (Debian's postgresql package creates it)")
    }
    return (entry.pointee.pw_uid, entry.pointee.pw_gid)
  }

  /// `setpriv` runs the command as `owner` (util-linux, on every Debian); else the command.
  static func asServerUser(_ owner: (uid: uid_t, gid: gid_t)?, _ command: String) -> String {
    owner == nil ? command : "/usr/bin/setpriv"
  }

  static func asServerArguments(_ owner: (uid: uid_t, gid: gid_t)?, _ command: [String]) -> [String] {
    guard let owner else { return Array(command.dropFirst()) }
    return ["--reuid=\(owner.uid)", "--regid=\(owner.gid)", "--clear-groups", "--"] + command
  }
}

extension PostgresServer {
  /// Why the test server could not be set up or asked.
  public struct Failure: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
  }
}
