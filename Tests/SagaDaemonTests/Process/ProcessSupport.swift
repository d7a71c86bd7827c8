import Foundation
import SagaTestSupport
import Synchronization
import Testing

struct TestFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// The `sagactl` executable of this build, next to `sagad`.
func sagactlBinary() throws -> URL {
  let url = try sagadBinary().deletingLastPathComponent().appendingPathComponent("sagactl")
  guard FileManager.default.isExecutableFile(atPath: url.path) else {
    throw TestFailure("sagactl not found at \(url.path); build it with `swift build --build-tests`")
  }
  return url
}

/// Waits until `daemon`'s admin socket answers; fails at once if the daemon exits.
func waitForAdminSocket(_ socket: String, of daemon: ChildProcess) async throws {
  _ = try await connectAdmin(socket, of: daemon)
}

/// A client of `daemon`'s admin socket, once it answers; fails at once if the daemon exits.
func connectAdmin(_ socket: String, of daemon: ChildProcess) async throws -> AdminTestClient {
  var client: AdminTestClient?
  try await eventually("sagad's admin socket to answer", timeout: .seconds(60)) {
    guard daemon.isRunning else { throw TestFailure("sagad exited:\n\(daemon.stderr.text.suffix(3000))") }
    client = try? await AdminTestClient.connect(socket, timeout: .seconds(5))
    return client != nil
  }
  return client!
}

/// The `sagad` executable of this build: SwiftPM puts it in the products directory next
/// to the test bundle (`swift build --build-tests` builds both). `SAGAD_BINARY` overrides.
func sagadBinary() throws -> URL {
  if let path = ProcessInfo.processInfo.environment["SAGAD_BINARY"] {
    return URL(fileURLWithPath: path)
  }
  let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
  var directory = bundle.deletingLastPathComponent()
  var searched: [String] = []
  for _ in 0..<4 {
    for candidate in ["sagad", "debug/sagad", "release/sagad"] {
      let url = directory.appendingPathComponent(candidate)
      searched.append(url.path)
      if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    directory = directory.deletingLastPathComponent()
  }
  throw TestFailure(
    "sagad binary not found (looked at \(searched.joined(separator: ", "))); "
      + "build it with `swift build --build-tests` or set SAGAD_BINARY")
}

/// `name` from PATH. A missing tool fails the test: CI installs kcat, so its absence is
/// a broken setup, not a reason to skip the wire-compatibility checks.
func requiredTool(_ name: String) throws -> URL {
  let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
  for directory in path.split(separator: ":") {
    let url = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
    if FileManager.default.isExecutableFile(atPath: url.path) { return url }
  }
  throw TestFailure(
    "\(name) not found in PATH (\(path)); install it with scripts/install-deps.sh (apt-get install \(name))")
}

/// A child process with piped stdin, stdout and stderr.
final class ChildProcess: Sendable {
  private let process: SpawnedProcess
  let stdout: OutputCollector
  let stderr: OutputCollector
  private let stdin: Mutex<Int32?>

  /// Starts `executable`; `pipeStdin: false` connects standard input to /dev/null.
  /// `environment` adds to (or, with a nil value, removes from) the test's own environment.
  init(
    _ executable: URL, _ arguments: [String], pipeStdin: Bool = true, environment: [String: String?] = [:]
  ) throws {
    process = try SpawnedProcess(
      path: executable.path, arguments: arguments, environment: environment, pipeStdin: pipeStdin)
    stdout = OutputCollector(process.stdoutDescriptor)
    stderr = OutputCollector(process.stderrDescriptor)
    stdin = Mutex(process.stdinDescriptor)
  }

  deinit { stdin.withLock { if let descriptor = $0 { close(descriptor) } } }

  var pid: Int32 { process.pid }
  var isRunning: Bool { process.isRunning }
  var termination: SpawnedProcess.Termination? { process.termination }

  func write(_ text: String) throws {
    try stdin.withLock { descriptor in
      guard let descriptor else { throw TestFailure("stdin of \(pid) is not a pipe") }
      var bytes = Array(text.utf8)[...]
      while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        if written < 0, errno == EINTR { continue }
        guard written > 0 else { throw TestFailure("writing to stdin of \(pid): errno \(errno)") }
        bytes = bytes.dropFirst(written)
      }
    }
  }

  func closeStdin() throws {
    stdin.withLock { descriptor in
      if let open = descriptor { close(open) }
      descriptor = nil
    }
  }

  func signal(_ number: Int32) { process.signal(number) }

  /// Waits for the exit and for both pipes to be drained; returns the exit status, or
  /// throws if the process died of a signal or outlived `timeout`.
  @discardableResult
  func waitForExit(timeout: Duration = .seconds(15)) async throws -> Int32 {
    try await eventually("process \(pid) to exit", timeout: timeout) {
      !process.isRunning && stdout.isFinished && stderr.isFinished
    }
    guard case .exited(let status) = process.termination else {
      throw TestFailure(
        "process \(pid) ended with \(String(describing: process.termination)); stderr:\n\(stderr.text)")
    }
    return status
  }

  /// The test's safety net: SIGKILL if still running. Call it in a `defer`.
  func killIfRunning() { signal(SIGKILL) }
}

/// Runs a command to completion with `input` on its stdin; kills it after `timeout`.
func run(
  _ executable: URL, _ arguments: [String], input: String = "", timeout: Duration = .seconds(30),
  environment: [String: String?] = [:]
) async throws -> (status: Int32, stdout: String, stderr: String) {
  let child = try ChildProcess(executable, arguments, environment: environment)
  defer { child.killIfRunning() }
  try child.write(input)
  try child.closeStdin()
  let status = try await child.waitForExit(timeout: timeout)
  return (status, child.stdout.text, child.stderr.text)
}
