import Foundation
import SagaTestSupport

/// `Tests/Peers/spring_peer.py` as a child process: the report's Spring Payments or Points,
/// written against Spring Kafka's rules with Debian's `python3-confluent-kafka`, not against
/// sagad's codec. It prints one JSON object per line for everything it does.
struct SpringPeerProcess {
  enum Role: String {
    case payments
    case points
  }

  let child: ChildProcess

  /// Starts the peer and waits until its listener holds its partitions; `enrolled` users
  /// have a point account from the start (Points).
  static func start(_ role: Role, bootstrap: String, enrolled: [Int] = []) async throws -> SpringPeerProcess {
    // Debian's interpreter: python3-confluent-kafka installs for it, not for another python3 on the PATH.
    let python = URL(fileURLWithPath: "/usr/bin/python3")
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
      .appendingPathComponent("Peers/spring_peer.py")
    let child = try ChildProcess(
      python,
      ["-u", script.path, "--role", role.rawValue, "--bootstrap", bootstrap]
        + (enrolled.isEmpty ? [] : ["--enroll", enrolled.map(String.init).joined(separator: ",")]),
      environment: ["PYTHONDONTWRITEBYTECODE": "1"])
    let peer = SpringPeerProcess(child: child)
    do {
      try await peer.waitFor("its listener to be assigned", timeout: .seconds(60)) {
        $0["event"] as? String == "assigned"
      }
    } catch {
      child.killIfRunning()
      throw error
    }
    return peer
  }

  /// Every line the peer printed, decoded.
  var events: [[String: Any]] {
    child.stdout.lines.compactMap { line in
      (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }
  }

  /// The events named `name`.
  func events(_ name: String) -> [[String: Any]] { events.filter { $0["event"] as? String == name } }

  /// Records the peer could not deserialize (each one stops a Spring consumer's partition).
  var poisonPills: [[String: Any]] { events("poison") }

  func send(_ command: String) throws { try child.write(command + "\n") }

  /// Waits until an event satisfies `predicate`; fails early when the peer died.
  @discardableResult
  func waitFor(
    _ what: String, timeout: Duration = .seconds(30), _ predicate: ([String: Any]) -> Bool
  ) async throws -> [String: Any] {
    var found: [String: Any]?
    try await eventually("the Spring peer: \(what)", timeout: timeout) {
      guard child.isRunning else {
        throw TestFailure(
          "the Spring peer exited:\n\(child.stdout.text.suffix(2000))\n\(child.stderr.text.suffix(2000))")
      }
      found = events.first(where: predicate)
      return found != nil
    }
    return found ?? [:]
  }

  /// Asks the peer to quit and waits for it; kills it if it does not.
  func stop() async throws {
    defer { child.killIfRunning() }
    try? send("quit")
    try await child.waitForExit(timeout: .seconds(20))
  }
}
