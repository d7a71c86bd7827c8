import AdminProtocol
import Foundation
import SagaCore
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

@testable import SagaDaemon

/// `dlt …` over the admin socket, on a dead-letter store without Kafka (a dry run and
/// the reads need none); `sagactl dlt …` against the same socket.
@Suite("dlt admin commands", .timeLimit(.minutes(2)))
struct AdminDeadLetterTests {
  final class Harness: StoppableFixture, Sendable {
    let directory: TemporaryDirectory
    let store: DeadLetterStore
    let server: AdminServer
    let socket: String
    private let task: Task<Void, any Error>

    init() async throws {
      directory = try TemporaryDirectory()
      store = try DeadLetterStore(StorageConfiguration(path: directory.path + "/dlt.sqlite"))
      socket = directory.path + "/admin.sock"
      var commands = AdminCommands(version: "9.9.9", roles: ["points"], payments: nil, points: nil, pay: nil)
      commands.deadLetters = DeadLetterService(store: store, producer: nil, logger: quietLogger)
      let server = AdminServer(
        settings: AdminSettings(socketPath: socket), commands: commands, version: "9.9.9", logger: quietLogger)
      self.server = server
      task = Task { try await server.run() }
      let path = socket
      try await eventually("the admin socket to accept connections") {
        (try? await AdminTestClient.connect(path, timeout: .seconds(5))) != nil
      }
    }

    func stop() async {
      task.cancel()
      _ = try? await task.value
    }
  }

  private static func letter(offset: Int64, reason: String, eventId: String? = nil) -> ReceivedDeadLetter {
    var headers = [
      RecordHeader(name: HeaderName.DeadLetter.originalTopic, value: "reservation-completed"),
      RecordHeader(name: HeaderName.DeadLetter.originalPartition, value: "0"),
      RecordHeader(name: HeaderName.DeadLetter.originalOffset, value: String(100 + offset)),
      RecordHeader(name: HeaderName.DeadLetter.exceptionMessage, value: reason),
      RecordHeader(name: HeaderName.failureClass, value: "permanent"),
    ]
    if let eventId { headers.insert(RecordHeader(name: HeaderName.eventId, value: eventId), at: 0) }
    return ReceivedDeadLetter(
      topic: "reservation-completed.DLT", partition: 0, offset: offset, key: Array("5".utf8),
      value: Array(#"{"paymentId":5}"#.utf8), headers: headers)
  }

  @Test("list, show, replay --dry-run, discard over the socket; the read level lists but cannot replay")
  func overTheSocket() async throws {
    try await Harness().use { harness in
      let eventId = UUID().uuidString.lowercased()
      try await harness.store.record([
        Self.letter(offset: 0, reason: "missing-field: paidAmount is missing", eventId: eventId),
        Self.letter(offset: 1, reason: "unsupported-version: eventVersion 2.0"),
        Self.letter(offset: 2, reason: "missing-field: userId is missing"),
      ])
      let client = try await AdminTestClient.connect(harness.socket)
      defer { client.close() }

      let table = try await client.send("dlt list")
      #expect(table.code == .ok)
      #expect(table.lines.map(\.code) == [.header, .row, .row, .row, .ok])
      #expect(table.lines[1].cells.prefix(3) == ["1", "pending", "reservation-completed[0]@100"])
      #expect(table.lines[1].cells.last == "missing-field: paidAmount is missing")

      let filtered = try await client.send("dlt list --reason missing-field --limit 1 --json")
      let page = try JSONDecoder().decode(AdminJSON.DeadLetters.self, from: Data(try #require(filtered.json).utf8))
      #expect(page.deadLetters.map(\.id) == [1])
      #expect(page.nextAfter == 1)
      let next = try await client.send("dlt list reason=missing-field after=1 --json")
      #expect(
        try JSONDecoder().decode(AdminJSON.DeadLetters.self, from: Data(try #require(next.json).utf8)).deadLetters
          .map(\.id) == [3])
      #expect(try await client.send("dlt list --status lost").code == .usage)
      #expect(try await client.send("dlt list --since yesterday").code == .usage)
      #expect(try await client.send("dlt list --since 1h --json").json?.contains("\"id\":3") == true)

      let shown = try await client.send("dlt show 1 --json")
      let detail = try JSONDecoder().decode(AdminJSON.DeadLetter.self, from: Data(try #require(shown.json).utf8))
      #expect(detail.summary.reasonCode == "missing-field")
      #expect(detail.eventId == eventId)
      #expect(detail.replayOf == eventId)
      #expect(detail.value == #"{"paymentId":5}"#)
      #expect(detail.headers.first == AdminJSON.DeadLetterHeader(name: "eventId", value: eventId))
      #expect(try await client.send("dlt show 1").lines.contains { $0.cells == ["replay-of", eventId] })
      #expect(try await client.send("dlt show 99").code == .notFound)

      let dry = try await client.send("dlt replay 2 --dry-run")
      #expect(dry.code == .ok)
      #expect(dry.text.contains("nothing was sent"))
      #expect(
        dry.lines[1].cells == [
          "2", "reservation-completed", "5", "offset:reservation-completed[0]@101", "0", "would-replay",
        ])
      // Without Kafka a real replay cannot happen: 8006, and nothing is marked.
      #expect(try await client.send("dlt replay 2").code == .unavailable)
      #expect(try await harness.store.deadLetter(id: 2)?.status == .pending)
      #expect(try await client.send("dlt replay").code == .usage)
      #expect(try await client.send("dlt replay 2 --all").code == .usage)
      #expect(try await client.send("dlt replay 2 --topic x").code == .usage)

      let discarded = try await client.send("dlt discard 3 --note 'fixed by hand in points'")
      #expect(discarded.code == .ok)
      #expect(discarded.text == "dead letter 3 discarded: fixed by hand in points")
      #expect(try await client.send("dlt discard 3").code == .usage)
      #expect(try await client.send("dlt replay 3 --dry-run").code == .refused)
      let all = try await client.send("dlt replay --all --topic reservation-completed --dry-run --json")
      let plan = try JSONDecoder().decode(AdminJSON.DeadLetterReplay.self, from: Data(try #require(all.json).utf8))
      #expect(plan.dryRun)
      #expect(plan.entries.map(\.id) == [1, 2])
      #expect(plan.entries.allSatisfy { $0.outcome == "would-replay" })

      // Levels: read may list and show, not replay or discard (not even a dry run).
      let peer = PeerCredentials(pid: 1, uid: 1000, gid: 1000)
      #expect(await harness.server.handle(Array("dlt list".utf8), peer: peer, level: .read).code == .ok)
      #expect(await harness.server.handle(Array("dlt show 1".utf8), peer: peer, level: .read).code == .ok)
      let denied = await harness.server.handle(Array("dlt replay 1 --dry-run".utf8), peer: peer, level: .read)
      #expect(denied.code == .permissionDenied)
      #expect(
        await harness.server.handle(Array("dlt discard 1 --note x".utf8), peer: peer, level: .read).code
          == .permissionDenied)
      #expect(
        await harness.server.handle(Array("dlt replay 1 --dry-run".utf8), peer: peer, level: .operate).code == .ok)
    }
  }

  @Test("sagactl dlt list / show / replay --dry-run / discard against the socket")
  func sagactl() async throws {
    let sagactl = try sagactlBinary()
    try await Harness().use { harness in
      try await harness.store.record([Self.letter(offset: 0, reason: "invalid-json: not JSON")])
      func ctl(_ arguments: String...) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await run(sagactl, ["--socket", harness.socket] + arguments)
      }
      let list = try await ctl("dlt", "list")
      #expect(list.status == 0, "\(list.stderr)")
      #expect(list.stdout.contains("invalid-json: not JSON"))
      let shown = try await ctl("dlt", "show", "1", "--json")
      #expect(shown.status == 0, "\(shown.stderr)")
      #expect(try JSONDecoder().decode(AdminJSON.DeadLetter.self, from: Data(shown.stdout.utf8)).summary.id == 1)
      let dry = try await ctl("dlt", "replay", "1", "--dry-run")
      #expect(dry.status == 0, "\(dry.stderr)")
      #expect(dry.stdout.contains("would-replay"))
      #expect(try await ctl("dlt", "replay", "--dry-run").status == 2)
      #expect(try await ctl("dlt", "show", "42").status == 1)
      let discard = try await ctl("dlt", "discard", "1", "--note", "not ours")
      #expect(discard.status == 0, "\(discard.stderr)")
      #expect(try await harness.store.deadLetter(id: 1)?.status == .discarded)
    }
  }
}
