import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

/// Another local user with read access cannot lock root out of the admin socket: slots are
/// capped per user and some are kept for root, and trickled bytes do not keep a slot.
@Suite("admin socket against an unfriendly user", .timeLimit(.minutes(2)))
struct AdminLockoutTests {
  @Test(
    "user nobody trickles 4 request lines and holds 100 connections: sagad closes the first, caps the rest; root's status answers"
  )
  func nobodyCannotLockRootOut() async throws {
    let broker = try await DevBrokerProcess.start()
    defer { broker.cleanUp() }
    let state = try TemporaryDirectory()
    let run = try TemporaryDirectory()
    // The socket's directory must let the other user reach the socket; the state stays private.
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: run.path)
    let socket = run.path + "/sagad.sock"
    let config = state.path + "/sagad.yaml"
    try """
    roles: [payments]
    kafka:
      brokers: "\(broker.bootstrap)"
    state_dir: "\(state.path)"
    admin:
      socket: "\(socket)"
      read_groups: [nogroup]
      request_timeout: 2s
    log:
      level: warning
    metrics:
      listen: "off"
    """.write(toFile: config, atomically: true, encoding: .utf8)
    let daemon = try ChildProcess(try sagadBinary(), ["--config", config], pipeStdin: false)
    defer { daemon.killIfRunning() }
    try await waitForAdminSocket(socket, of: daemon)
    // As a group's socket would be: here every user may connect, and the levels decide.
    #expect(chmod(socket, 0o666) == 0)
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
      .appendingPathComponent("Peers/admin_squatter.py")
    let squatter = try ChildProcess(
      URL(fileURLWithPath: "/usr/bin/setpriv"),
      ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", script.path, socket, "100", "4"],
      environment: ["PYTHONDONTWRITEBYTECODE": "1"])
    defer { squatter.killIfRunning() }
    do {
      func phase(_ name: String) async throws -> [String: Int] {
        var found: [String: Int]?
        try await eventually("the squatter's \(name) phase", timeout: .seconds(90)) {
          guard squatter.isRunning else { throw TestFailure("squatter exited:\n\(squatter.stderr.text)") }
          found = squatter.stdout.lines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
          }.first { $0["phase"] as? String == name }?.compactMapValues { $0 as? Int }
          return found != nil
        }
        return found ?? [:]
      }
      let trickle = try await phase("trickle")
      #expect(trickle["admitted"] == 4, "\(trickle)")
      #expect(trickle["closed_by_sagad"] == 4, "trickled bytes kept a slot: \(trickle)")
      let idle = try await phase("idle")
      #expect(idle["held"] == 4, "\(idle)")
      #expect(idle["turned_away"] == 96, "\(idle)")

      // While nobody holds its share: root is served, at once.
      let admin = try await connectAdmin(socket, of: daemon)
      #expect(admin.level == .admin)
      #expect(try await admin.send("status").code == .ok)
      #expect(daemon.isRunning)
      // The turned-away reconnects were logged once, not 96 times.
      #expect(daemon.stderr.lines.filter { $0.contains("connection turned away") }.count == 1, "\(daemon.stderr.text)")
      try squatter.closeStdin()
      try await squatter.waitForExit(timeout: .seconds(20))
      daemon.signal(SIGTERM)
      #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 0)
    } catch {
      Issue.record(
        "sagad:\n\(daemon.stderr.text.suffix(3000))\nsquatter:\n\(squatter.stdout.text)\(squatter.stderr.text)")
      throw error
    }
  }
}
