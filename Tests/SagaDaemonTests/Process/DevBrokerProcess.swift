import Foundation
import SagaTestSupport
import Testing

/// A `sagad dev-broker` child process, started the way a script would start it.
struct DevBrokerProcess {
  let child: ChildProcess
  let directory: TemporaryDirectory
  let bootstrapFile: URL
  let bootstrap: String

  /// Starts the broker and waits until its bootstrap file appears.
  static func start(_ arguments: [String] = [], pipeStdin: Bool = true) async throws -> DevBrokerProcess {
    let directory = try TemporaryDirectory()
    let bootstrapFile = directory.url.appendingPathComponent("bootstrap")
    // With a piped stdin the broker stops when this test process goes away (its end
    // of the pipe closes), so a crashed test run leaves no broker behind.
    let child = try ChildProcess(
      try sagadBinary(),
      ["dev-broker", "--bootstrap-file", bootstrapFile.path] + (pipeStdin ? ["--stop-at-end-of-input"] : [])
        + arguments,
      pipeStdin: pipeStdin)
    do {
      try await eventually("the bootstrap file of dev-broker \(child.pid)") {
        guard child.isRunning else {
          throw TestFailure("dev-broker exited early; stderr:\n\(child.stderr.text)")
        }
        return FileManager.default.fileExists(atPath: bootstrapFile.path)
      }
      // The file is written atomically, so once it exists it is complete.
      let bootstrap = try String(contentsOf: bootstrapFile, encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines)
      return DevBrokerProcess(child: child, directory: directory, bootstrapFile: bootstrapFile, bootstrap: bootstrap)
    } catch {
      child.killIfRunning()
      throw error
    }
  }

  /// Sends one control line and returns the reply line it produced.
  func control(_ line: String, timeout: Duration = .seconds(10)) async throws -> String {
    let before = child.stdout.lines.count
    try child.write(line + "\n")
    var reply: String?
    try await eventually("a reply to '\(line)'", timeout: timeout) {
      let lines = child.stdout.lines
      if lines.count > before { reply = lines[before] }
      return reply != nil
    }
    return reply!
  }

  /// Kills the broker if it still runs (its directory goes with the value). Call it in a `defer`.
  func cleanUp() {
    child.killIfRunning()
  }
}

/// `kcat -L` output as topic name → partition count.
func kcatTopics(bootstrap: String, timeout: Duration = .seconds(30)) async throws -> [String: Int] {
  let result = try await run(
    try requiredTool("kcat"), ["-L", "-b", bootstrap, "-m", "10"], timeout: timeout)
  guard result.status == 0 else {
    throw TestFailure("kcat -L failed (\(result.status)): \(result.stderr)")
  }
  // Lines look like:   topic "reservation-completed" with 3 partitions:
  var topics: [String: Int] = [:]
  for line in result.stdout.split(separator: "\n") {
    let parts = line.split(separator: "\"")
    guard parts.count == 3, parts[0].trimmingCharacters(in: .whitespaces) == "topic" else { continue }
    let words = parts[2].split(separator: " ")
    guard words.count >= 2, words[0] == "with", let count = Int(words[1]) else { continue }
    topics[String(parts[1])] = count
  }
  return topics
}
