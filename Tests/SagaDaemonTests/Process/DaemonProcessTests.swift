import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

/// The built `sagad` as a child process: configuration errors and `check-config`, then
/// one daemon's lifecycle — sd_notify, SIGHUP reload, the audit log, SIGTERM.
@Suite("sagad process: configuration, sd_notify, reload, shutdown", .timeLimit(.minutes(2)))
struct DaemonProcessTests {
  /// `environment` plus a metrics port of the kernel's choosing: several sagad processes
  /// run at once (tests in parallel), and a fixed port would stop all but the first.
  private static func isolated(_ environment: [String: String?]) -> [String: String?] {
    environment.merging(["SAGAD_METRICS_LISTEN": "127.0.0.1:0"]) { given, _ in given }
  }

  private func write(_ text: String, to path: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
  }

  /// The line of stderr that names the problem (ArgumentParser adds usage lines after it).
  private func errorLine(_ stderr: String) -> String {
    stderr.split(separator: "\n").first { $0.hasPrefix("Error:") }.map(String.init) ?? stderr
  }

  @Test("an invalid or unknown key stops sagad with exit 64 naming the key; check-config says the same")
  func invalidConfiguration() async throws {
    let directory = try TemporaryDirectory()
    let sagad = try sagadBinary()
    let cases: [(yaml: String, key: String)] = [
      ("kafka:\n  brokers: localhost:9092\nconsumer:\n  batch_max: lots\n", "consumer.batch_max"),
      ("kafka:\n  brokers: localhost:9092\nconsumer:\n  batchmax: 3\n", "consumer.batchmax"),
      ("kafka:\n  brokers: localhost:9092\nshutdown:\n  timeout: 2 weeks\n", "shutdown.timeout"),
    ]
    for (index, entry) in cases.enumerated() {
      let file = directory.path + "/bad\(index).yaml"
      try write(entry.yaml, to: file)
      let started = try await run(sagad, ["--config", file, "--state-dir", directory.path + "/state"])
      #expect(started.status == 64, "\(started.stderr)")
      #expect(errorLine(started.stderr).contains("'\(entry.key)'"), "\(started.stderr)")
      let checked = try await run(sagad, ["check-config", "--config", file])
      #expect(checked.status == started.status)
      #expect(errorLine(checked.stderr) == errorLine(started.stderr))
      #expect(!checked.stdout.contains("ok"))
    }
    // Nothing was started: no state directory, no socket.
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/state"))

    let unknownVariable = ["SAGAD_RETRY_ATTEMPT": "3"]
    let devRun = try await run(sagad, ["--dev", "--state-dir", directory.path], environment: unknownVariable)
    #expect(devRun.status == 64)
    #expect(errorLine(devRun.stderr).contains("SAGAD_RETRY_ATTEMPT"))
    #expect(errorLine(devRun.stderr).contains("SAGAD_RETRY_ATTEMPTS"), "suggests the right name")
    let devCheck = try await run(sagad, ["check-config", "--dev"], environment: unknownVariable)
    #expect(devCheck.status == 64)
    #expect(errorLine(devCheck.stderr) == errorLine(devRun.stderr))

    let good = directory.path + "/good.yaml"
    try write(
      "kafka:\n  brokers: localhost:9092\nconsumer:\n  batch_max: 200\nretry:\n  initial_delay: 500ms\n", to: good)
    let ok = try await run(
      sagad, ["check-config", "--config", good], environment: ["SAGAD_SHUTDOWN_TIMEOUT": "2m"])
    #expect(ok.status == 0, "\(ok.stderr)")
    let lines = ok.stdout.split(separator: "\n").map(String.init)
    #expect(lines.first == "ok")
    func line(_ key: String) -> String? { lines.first { $0.hasPrefix(key + " ") } }
    #expect(line("consumer.batch_max")?.hasSuffix("= 200  # file") == true)
    #expect(line("retry.initial_delay")?.hasSuffix("= 500ms  # file") == true)
    #expect(line("shutdown.timeout")?.hasSuffix("= 2m  # SAGAD_SHUTDOWN_TIMEOUT") == true)
    #expect(line("log.level")?.hasSuffix("= info  # default") == true)
  }

  @Test(
    "READY, STATUS and WATCHDOG over NOTIFY_SOCKET; SIGHUP reloads log.level; audit line; SIGTERM → STOPPING, exit 0")
  func lifecycle() async throws {
    let directory = try TemporaryDirectory()
    let listener = try NotifyListener(path: directory.path + "/notify.sock")
    defer { listener.close() }
    let config = directory.path + "/sagad.yaml"
    try write("log:\n  level: info\nshutdown:\n  timeout: 20s\n", to: config)
    let socket = directory.path + "/sagad.sock"
    let daemon = try ChildProcess(
      try sagadBinary(), ["--dev", "--config", config, "--state-dir", directory.path], pipeStdin: false,
      environment: Self.isolated(["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "400000"]))
    defer { daemon.killIfRunning() }
    do {
      try await eventually("READY=1 from sagad", timeout: .seconds(60)) {
        guard daemon.isRunning else { throw TestFailure("sagad exited:\n\(daemon.stderr.text)") }
        return listener.fields.contains("READY=1")
      }
      // The socket listens by the time READY=1 is sent.
      let client = try await AdminTestClient.connect(socket)
      #expect(listener.fields.contains { $0.hasPrefix("STATUS=ready") }, "\(listener.fields)")
      try await eventually("WATCHDOG=1 pings") { listener.fields.filter { $0 == "WATCHDOG=1" }.count >= 2 }

      #expect(try await client.send("log-level").text == "log level is info")
      try write("log:\n  level: debug\nshutdown:\n  timeout: 20s\n", to: config)
      daemon.signal(SIGHUP)
      try await eventually("SIGHUP to apply log.level") {
        try await client.send("log-level").text == "log level is debug"
      }
      #expect(daemon.stderr.text.contains("configuration reloaded"))

      // retry.* apply live; a restart-only key is named, not applied.
      try write(
        "log:\n  level: debug\nshutdown:\n  timeout: 20s\nconsumer:\n  batch_max: 7\nretry:\n  attempts: 4\n",
        to: config)
      daemon.signal(SIGHUP)
      try await eventually("the reload to apply retry.attempts and name consumer.batch_max") {
        daemon.stderr.text.contains("applied=[\"retry.attempts\"]")
          && daemon.stderr.text.contains("take effect only after a restart")
          && daemon.stderr.text.contains("keys=consumer.batch_max")
      }

      #expect(try await client.send("user add 77 --balance 5").code == .ok)
      try await eventually("an audit line for user add") {
        daemon.stderr.lines.contains {
          $0.contains(#"admin audit: command "user add 77 --balance 5""#) && $0.contains("uid=\(getuid())")
            && $0.contains("reply=0000")
        }
      }
      // Text planted in a command stays inside its quotes, after the real fields.
      _ = try await client.send(#"compensations resolve 999 --note "x uid=4242 reply=0000""#)
      try await eventually("the audit line of the planted command") {
        daemon.stderr.lines.contains { $0.contains("admin audit: command") && $0.contains("uid=4242") }
      }
      let planted = try #require(
        daemon.stderr.lines.first { $0.contains("admin audit: command") && $0.contains("uid=4242") })
      let message = try #require(planted.range(of: "admin audit: command")).lowerBound
      #expect(
        !planted[..<message].contains("uid=4242") && planted[..<message].contains("uid=\(getuid())"), "\(planted)")
      #expect(planted.hasSuffix(#"--note \"x uid=4242 reply=0000\"""#), "\(planted)")
      // A read-only command leaves none.
      #expect(try await client.send("balance 77").code == .ok)
      #expect(!daemon.stderr.text.contains("command=balance 77"))

      daemon.signal(SIGTERM)
      #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 0)
      let fields = listener.fields
      try await eventually("STOPPING=1") { listener.fields.contains("STOPPING=1") }
      let ready = try #require(listener.fields.firstIndex(of: "READY=1"))
      let stopping = try #require(listener.fields.firstIndex(of: "STOPPING=1"))
      #expect(ready < stopping, "\(fields)")
    } catch {
      Issue.record("sagad stderr:\n\(daemon.stderr.text.suffix(4000))")
      throw error
    }
  }

  @Test("WATCHDOG=1 stops while a consume loop is wedged and resumes when it moves again")
  func watchdogFollowsProgress() async throws {
    let directory = try TemporaryDirectory()
    let listener = try NotifyListener(path: directory.path + "/notify.sock")
    defer { listener.close() }
    let socket = directory.path + "/sagad.sock"
    let daemon = try ChildProcess(
      try sagadBinary(), ["--dev", "--state-dir", directory.path, "--log-level", "notice"], pipeStdin: false,
      environment: Self.isolated(["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "400000"]))
    defer { daemon.killIfRunning() }
    func pings() -> Int { listener.fields.filter { $0 == "WATCHDOG=1" }.count }
    do {
      try await eventually("READY=1 from sagad", timeout: .seconds(60)) {
        guard daemon.isRunning else { throw TestFailure("sagad exited:\n\(daemon.stderr.text)") }
        return listener.fields.contains("READY=1")
      }
      let client = try await AdminTestClient.connect(socket)
      try await eventually("WATCHDOG=1 pings") { pings() >= 2 }
      // The next transaction commit of any worker blocks its loop for 3 s.
      #expect(try await client.send("failpoint set db.commit 'delay(3000)' --count 1").code == .ok)
      #expect(try await client.send("user add 1 --balance 1000").code == .ok)
      #expect(try await client.send("pay --user 1 --schedule 1 --amount 100").code == .ok)
      try await eventually("the watchdog to notice the wedged loop", timeout: .seconds(20)) {
        daemon.stderr.text.contains("watchdog: loops made no progress")
      }
      let whileStalled = pings()
      #expect(listener.fields.contains { $0.hasPrefix("STATUS=") && $0.contains("stalled:") }, "\(listener.fields)")
      try await eventually("pings to resume once the loop moves", timeout: .seconds(20)) { pings() > whileStalled }
      daemon.signal(SIGTERM)
      #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 0)
    } catch {
      Issue.record("sagad stderr:\n\(daemon.stderr.text.suffix(4000))")
      throw error
    }
  }

  @Test("a drain that outlasts shutdown.timeout names what is still running and exits 1")
  func shutdownTimeout() async throws {
    let dev = try DevDaemon(logLevel: "notice", environment: Self.isolated(["SAGAD_SHUTDOWN_TIMEOUT": "1s"]))
    let (daemon, socket) = (dev.process, dev.socket)
    defer { daemon.killIfRunning() }
    do {
      let client = try await connectAdmin(socket, of: daemon)
      // Every publish now takes 10 minutes, so the relay cannot flush the outbox within 1 s;
      // waitForExit's 30 s would fail if sagad waited for it instead of shutdown.timeout.
      #expect(try await client.send("failpoint set outbox.publish 'delay(600000)'").code == .ok)
      #expect(try await client.send("user add 1 --balance 1000").code == .ok)
      #expect(try await client.send("pay --user 1 --schedule 1 --amount 100").code == .ok)
      daemon.signal(SIGTERM)
      #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 1)
      let report = daemon.stderr.lines.first { $0.contains("shutdown.timeout passed") }
      #expect(report?.contains("relay-payments running") == true, "\(daemon.stderr.text.suffix(2000))")
    } catch {
      Issue.record("sagad stderr:\n\(daemon.stderr.text.suffix(4000))")
      throw error
    }
  }

  @Test("the admin `shutdown` command stops sagad like SIGTERM: reply first, then exit 0")
  func adminShutdown() async throws {
    let dev = try DevDaemon(environment: Self.isolated([:]))
    let (daemon, socket) = (dev.process, dev.socket)
    defer { daemon.killIfRunning() }
    do {
      let client = try await connectAdmin(socket, of: daemon)
      let reply = try await client.send("shutdown")
      #expect(reply.code == .ok)
      #expect(reply.text.hasPrefix("shutting down"))
      #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 0)
      #expect(!FileManager.default.fileExists(atPath: socket))
    } catch {
      Issue.record("sagad stderr:\n\(daemon.stderr.text.suffix(4000))")
      throw error
    }
  }
}
