public import Foundation
import SagaKafka
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A child process started with posix_spawn(3), its standard streams on pipes.
///
/// Not Foundation's `Process`: its `run()` walks /proc/self/fd to close inherited
/// descriptors and crashed there (memcpy on an unmapped page) in a test process holding
/// over a thousand descriptors. Here the child closes them with one `closefrom` action.
public final class SpawnedProcess: Sendable {
  public let pid: pid_t
  /// Parent ends of the pipes; the caller owns and closes them.
  public let stdinDescriptor: Int32?
  public let stdoutDescriptor: Int32
  public let stderrDescriptor: Int32
  private let exit = Mutex<Termination?>(nil)

  public enum Termination: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)
    /// Reaped by someone else (SIGCHLD ignored): the status is gone.
    case unknown
  }

  /// A test must never die of SIGPIPE because a child closed its stdin early.
  private static let ignoreSIGPIPE: Void = { _ = Glibc.signal(SIGPIPE, SIG_IGN) }()

  /// Starts `path`; `pipeStdin: false` connects standard input to /dev/null. `environment`
  /// adds to (or, with a nil value, removes from) this process's environment.
  public init(
    path: String, arguments: [String], environment: [String: String?] = [:], pipeStdin: Bool = true
  ) throws {
    Self.ignoreSIGPIPE
    let input = pipeStdin ? try Self.makePipe() : nil
    let output = try Self.makePipe()
    let error = try Self.makePipe()

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if let input {
      posix_spawn_file_actions_adddup2(&actions, input.read, 0)
    } else {
      posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    }
    posix_spawn_file_actions_adddup2(&actions, output.write, 1)
    posix_spawn_file_actions_adddup2(&actions, error.write, 2)
    _ = Self.addCloseFrom?(&actions, 3)

    // Signal dispositions the test process changed (SIGPIPE above, SIGTERM by
    // swift-service-lifecycle) and its blocked signals must not leak into the child.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for number in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM] {
      sigaddset(&defaults, number)
    }
    var mask = sigset_t()
    sigemptyset(&mask)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setsigmask(&attributes, &mask)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

    var merged = ProcessInfo.processInfo.environment
    for (name, value) in environment { merged[name] = value }
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for pointer in argv + envp { free(pointer) }
    }

    var pid: pid_t = 0
    // Not while a mock broker of this process goes down: the child's copy of its listening
    // socket, until the closefrom action, would make librdkafka abort the test process.
    let result = EmbeddedKafkaCluster.whileNoBrokerGoesDown {
      posix_spawn(&pid, path, &actions, &attributes, argv, envp)
    }
    // The child has its copies; the parent keeps only its own ends.
    for descriptor in [input?.read, output.write, error.write].compactMap({ $0 }) { close(descriptor) }
    guard result == 0 else {
      for descriptor in [input?.write, output.read, error.read].compactMap({ $0 }) { close(descriptor) }
      throw SpawnError(path: path, code: result)
    }
    self.pid = pid
    self.stdinDescriptor = input?.write
    self.stdoutDescriptor = output.read
    self.stderrDescriptor = error.read
  }

  /// The exit, once the child has ended; reaps it on first sight (never blocks).
  public var termination: Termination? {
    exit.withLock { exit in
      if let exit { return exit }
      var status: Int32 = 0
      let reaped = waitpid(pid, &status, WNOHANG)
      if reaped == pid {
        exit = Self.decode(status)
      } else if reaped < 0, errno == ECHILD {
        exit = .unknown
      }
      return exit
    }
  }

  /// Blocks until the child ends: only for short commands run from synchronous code.
  public func waitUntilExit() -> Termination {
    exit.withLock { exit in
      if let exit { return exit }
      var status: Int32 = 0
      var reaped: pid_t
      repeat { reaped = waitpid(pid, &status, 0) } while reaped < 0 && errno == EINTR
      let ended = reaped == pid ? Self.decode(status) : .unknown
      exit = ended
      return ended
    }
  }

  /// Runs a short command to completion from synchronous code: how it ended and what it
  /// printed. Its output must fit a pipe's buffer (64 KiB), as mount's and chattr's do.
  public static func run(_ path: String, _ arguments: [String]) throws -> (Termination, String) {
    let process = try SpawnedProcess(path: path, arguments: arguments, pipeStdin: false)
    let output = readToEnd(process.stdoutDescriptor) + readToEnd(process.stderrDescriptor)
    return (process.waitUntilExit(), output)
  }

  /// Reads until end of file and closes the descriptor.
  private static func readToEnd(_ descriptor: Int32) -> String {
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0, errno == EINTR { continue }
      if count <= 0 { break }
      bytes += chunk[..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// waitpid's status word: WIFEXITED/WEXITSTATUS/WTERMSIG, which Swift does not import.
  private static func decode(_ status: Int32) -> Termination {
    let signal = status & 0x7f
    return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
  }

  public var isRunning: Bool { termination == nil }

  /// Sends `number` unless the child has been reaped (its pid may belong to another process by then).
  public func signal(_ number: Int32) {
    exit.withLock { exit in
      if exit == nil { kill(pid, number) }
    }
  }

  /// Close-on-exec, so that a child spawned by another thread meanwhile does not hold a
  /// pipe end open; this spawn's own ends are dup2'ed, which clears the flag.
  private static func makePipe() throws -> (read: Int32, write: Int32) {
    var descriptors: [Int32] = [0, 0]
    guard pipe(&descriptors) == 0 else { throw SpawnError(path: "pipe", code: errno) }
    for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
    return (descriptors[0], descriptors[1])
  }

  private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

  /// glibc ≥ 2.34's posix_spawn_file_actions_addclosefrom_np, which Swift does not import
  /// (it needs _GNU_SOURCE): descriptors the test process opened without close-on-exec
  /// (sockets of librdkafka's mock brokers among them) must not leak into children.
  private static let addCloseFrom: AddCloseFrom? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
    else { return nil }
    return unsafeBitCast(symbol, to: AddCloseFrom.self)
  }()
}

public struct SpawnError: Error, CustomStringConvertible {
  public let path: String
  public let code: Int32
  public var description: String { "cannot start \(path): \(String(cString: strerror(code)))" }
}
