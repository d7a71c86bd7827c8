import AdminProtocol
import Foundation
import SagaTestSupport
import Synchronization
import Testing

/// Issue 7's admin fuzz: thousands of random and mutated request lines over the socket of
/// a real sagad, from several connections at once. sagad must never crash, and every reply
/// must be well-formed (AdminClient reads it with ReplyReader, which throws on anything
/// else); a closed connection is an allowed answer (to an over-long line) — the fuzzer
/// reconnects. Afterwards sagad still serves and `verify` is clean.
@Suite(
  "Reliability: admin fuzz", .serialized, .timeLimit(.minutes(ReliabilityProfile.current.isFull ? 30 : 2)))
struct ReliabilityAdminFuzzTests {
  /// Valid lines the mutations start from. No `shutdown`, `drain` or `failpoint` (which
  /// may arm `crash`): those stop sagad on purpose, and would hide the crash looked for.
  static let corpus = [
    "help", "help pay", "version", "status", "status --json", "workers", "lag", "lag --json", "stuck",
    "user add 7 --balance 100000", "user add 8 --no-points", "charge 7 5000", "balance 7 --json",
    "pay --user 7 --schedule 1 --amount 1000", "pay --user 7 --schedule 2 --seat A1 --amount 1000 --json",
    "payment 1", "payment 1 --json", "saga 1", "saga 1 --json", "verify", "verify --json", "dlt list",
    "dlt list --topic reservation-completed --json", "dlt show 1", "dlt replay 1 --dry-run", "dlt discard 99 --note x",
    "compensations list", "compensations retry 5", "compensations resolve 5 --note \"by hand\"", "log-level info",
    "pause points-service", "resume points-service", "user add \"9\" --balance 1",
  ]
  static let forbidden = ["shutdown", "drain", "failpoint"]

  /// One line: a corpus line mutated a few times, or random bytes. Never a newline
  /// inside (that would be two requests).
  static func line(using random: inout SeededGenerator) -> [UInt8] {
    if Int.random(in: 0..<10, using: &random) == 0 {
      return (0..<Int.random(in: 0...200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        .filter { $0 != 0x0A }
    }
    var bytes = Array(corpus.randomElement(using: &random)!.utf8)
    for _ in 0..<Int.random(in: 0...4, using: &random) {
      let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
      switch Int.random(in: 0..<9, using: &random) {
      case 0 where !bytes.isEmpty: bytes[position] = UInt8.random(in: 0...255, using: &random)
      case 1: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
      case 2 where !bytes.isEmpty: bytes.remove(at: position)
      case 3: bytes.insert(contentsOf: Array(" \"".utf8), at: position)
      case 4: bytes.insert(contentsOf: Array(" -9223372036854775809".utf8), at: position)
      case 5: bytes.insert(contentsOf: Array(" --json --json".utf8), at: position)
      case 6:
        bytes.insert(
          contentsOf: [UInt8](repeating: 0x41, count: Int.random(in: 100...6000, using: &random)), at: position)
      case 7: bytes.insert(contentsOf: Array("\\\u{00e9}\u{0000}\t\r".utf8), at: position)
      default: bytes += Array(" 99999999999999999999 x=y".utf8)
      }
    }
    return bytes.filter { $0 != 0x0A }
  }

  @Test("random and mutated request lines: sagad never crashes, every reply well-formed")
  func fuzz() async throws {
    let profile = ReliabilityProfile.current
    let connections = 4
    let linesPerConnection = profile.pick(ci: 750, full: 12_500)
    let broker = try await DevBrokerProcess.start()
    defer { broker.cleanUp() }
    let node = try ReliabilityNode(name: "sagad", broker: broker.bootstrap)
    defer { node.killIfRunning() }
    try await node.start()
    let started = ContinuousClock.now

    let tally = FuzzTally()
    try await withThrowingTaskGroup(of: Void.self) { group in
      for connection in 0..<connections {
        group.addTask {
          var random = SeededGenerator(seed: profile.seed &+ UInt64(connection) &* 7919)
          var client = try await node.connect()
          defer { client.close() }
          for _ in 0..<linesPerConnection {
            let line = Self.line(using: &random)
            let words = String(decoding: line, as: UTF8.self).lowercased().split(whereSeparator: \.isWhitespace)
            if let first = words.first, Self.forbidden.contains(where: { first.contains($0) }) { continue }
            tally.state.withLock { $0.sent += 1 }
            do throws(AdminClientError) {
              try await client.write(line + [0x0A])
              let reply = try await client.readReply()
              tally.state.withLock { $0.replies += 1 }
              if reply.code == .ok, reply.lines.contains(where: { $0.code == .json }), reply.json == nil {
                tally.state.withLock { $0.problems.append("ok reply with an empty JSON document") }
              }
            } catch {
              switch error.kind {
              case .closed, .rejected:
                tally.state.withLock { $0.closed += 1 }
              default:
                tally.state.withLock { $0.problems.append("\(error.kind): \(error.message) after \(line.prefix(80))") }
              }
              client.close()
              client = try await node.connect()
            }
          }
        }
      }
      try await group.waitForAll()
    }
    var violations = tally.state.withLock { $0.problems }
    if !node.isRunning { violations.append("sagad died: \(node.stderrTail)") }
    let (sent, replies, closed) = tally.state.withLock { ($0.sent, $0.replies, $0.closed) }
    #expect(sent > connections * linesPerConnection * 9 / 10)
    #expect(replies + closed == sent)

    // Still serving, and whatever the fuzz paid for is consistent.
    let client = try await node.connect()
    #expect(try await client.send("status").code == .ok)
    client.close()
    let live = try await liveAudit([node])
    violations += live.violations
    try await node.stop()
    let seconds = Double((ContinuousClock.now - started).components.seconds)
    try ReliabilityResult(
      scenario: "admin fuzz", profile: profile.name, seed: profile.seed, runs: 1, payments: 0, faults: sent,
      faultKind: "request lines (\(replies) replies, \(closed) closed connections)", violations: violations.count,
      seconds: seconds, details: Array(violations.prefix(20))
    ).record()
    #expect(violations.isEmpty, "\(violations.prefix(20).joined(separator: "\n"))")
  }
}

/// What the fuzzing connections saw, shared between their tasks.
private final class FuzzTally: Sendable {
  let state = Mutex((sent: 0, replies: 0, closed: 0, problems: [String]()))
}
