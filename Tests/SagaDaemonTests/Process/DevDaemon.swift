import SagaTestSupport

/// `sagad --dev` as a child process of the test, with its state and admin socket in a
/// fresh temporary directory.
struct DevDaemon {
  let directory: TemporaryDirectory
  let process: ChildProcess
  var socket: String { directory.path + "/sagad.sock" }

  /// `arguments` follow `--dev --state-dir DIR --log-level LEVEL`; `environment` adds to
  /// the test's own.
  init(_ arguments: [String] = [], logLevel: String = "warning", environment: [String: String?] = [:]) throws {
    directory = try TemporaryDirectory()
    process = try ChildProcess(
      try sagadBinary(), ["--dev", "--state-dir", directory.path, "--log-level", logLevel] + arguments,
      pipeStdin: false, environment: environment)
  }
}
