import AdminProtocol
import Foundation
import Logging
import SagaCore
import SagaKafka
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

@testable import SagaDaemon

/// `outbox list|show|discard` through the admin commands, on a relay that is not running (so
/// nothing is in flight and nothing is sent): the table and JSON, a discard kept in the
/// dead-letter store, and the coded refusals.
@Suite("outbox admin commands", .timeLimit(.minutes(1)))
struct AdminOutboxTests {
  @Test("list shows pending rows; show one; discard keeps it as a dead letter; refusals are coded")
  func listShowDiscard() async throws {
    try await TemporaryDirectory.with { directory in
      var commands = try AdminCommands.onBareDatabases(in: directory)
      let payments = try #require(commands.payments).database.storage
      let store = try DeadLetterStore(StorageConfiguration(path: directory.path + "/dlt.sqlite"))
      // A producer that never connects: the relay is never run.
      let producer = try KafkaProducer(
        configuration: KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1"), logger: Logger(label: "t"))
      let relay = OutboxRelay(
        name: "payments", database: payments, producer: producer, deadLetters: store, logger: Logger(label: "t"))
      commands = AdminCommands(
        version: "9.9.9", roles: commands.roles, payments: commands.payments, points: commands.points,
        relays: [relay], pay: nil)
      try await payments.write { db in
        for value in ["first", "second"] {
          _ = try Outbox.append(
            OutboxMessage(topic: "reservation-completed", key: "7", payload: Array(value.utf8)), in: db)
        }
      }
      func execute(_ line: String) async throws -> AdminReply {
        await commands.execute(try AdminRequest.parse(line))
      }

      let listed = try await execute("outbox list --json")
      let rows = try JSONDecoder().decode(AdminJSON.OutboxRows.self, from: Data(try #require(listed.json).utf8)).rows
      #expect(rows.map(\.id) == [1, 2])
      #expect(rows.allSatisfy { $0.state == "pending" && $0.service == "payments" && $0.key == "7" })
      let table = try await execute("outbox list")
      #expect(table.code == .ok)
      #expect(table.lines.last?.text == "2 rows, 2 pending")

      let shown = try await execute("outbox show payments 2 --json")
      let detail = try JSONDecoder().decode(AdminJSON.OutboxRowDetail.self, from: Data(try #require(shown.json).utf8))
      #expect(detail.value == "second")
      #expect(detail.row.bytes == 6)
      #expect(detail.deadLetterId == nil)

      let discarded = try await execute("outbox discard payments 1 --note 'poison, OPS-1'")
      #expect(discarded.code == .ok, "\(discarded.lines)")
      let letter = try #require(try await store.list(limit: 10).first)
      #expect(
        discarded.lines.last?.text
          == "payments outbox row 1 discarded; kept as dead letter \(letter.id) (`dlt show \(letter.id)`)")
      #expect(letter.status == .discarded)
      #expect(letter.discardNote == "poison, OPS-1")
      #expect(letter.origin == "outbox:payments:1")

      let after = try await execute("outbox list --all --json")
      let states = try JSONDecoder().decode(AdminJSON.OutboxRows.self, from: Data(try #require(after.json).utf8))
        .rows.map(\.state)
      #expect(states == ["closed", "pending"])
      #expect(try await execute("outbox discard payments 1 --note again").code == .refused)
      #expect(try await execute("outbox show payments 99").code == .notFound)
      #expect(try await execute("outbox show points 1").code == .roleNotRunning)
      #expect(try await execute("outbox discard payments 2 --note ' '").code == .usage)
      #expect(throws: (any Error).self, "the note is required") {
        try AdminRequest.parse("outbox discard payments 2")
      }
      await producer.close(timeout: .milliseconds(100))
    }
  }

  @Test("status: a relay without a lease publishes; with one, the holder says whether it hears the standbys")
  func relayInStatus() async throws {
    try await TemporaryDirectory.with { directory in
      var commands = try AdminCommands.onBareDatabases(in: directory)
      let producer = try KafkaProducer(
        configuration: KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1"), logger: Logger(label: "t"))
      let relay = OutboxRelay(
        name: "payments", database: try #require(commands.payments).database.storage, producer: producer,
        logger: Logger(label: "t"))
      commands = AdminCommands(
        version: "9.9.9", roles: commands.roles, payments: commands.payments, points: commands.points,
        relays: [relay], pay: nil)
      let json = await commands.execute(try AdminRequest.parse("status --json"))
      let status = try JSONDecoder().decode(AdminJSON.Status.self, from: Data(try #require(json.json).utf8))
      #expect(status.relays == [AdminJSON.Relay(name: "payments", sent: 0, failedAttempts: 0, lastError: nil)])
      let text = await commands.execute(try AdminRequest.parse("status"))
      #expect(text.lines.contains { $0.text == "payments\tyes\t0\t0\t0 / 0\t-" }, "\(text.lines.map(\.text))")

      typealias Lease = AdminJSON.Relay.Lease
      #expect(AdminCommands.publishes(Lease(held: false, listening: false, announcementsHeard: 3)) == "no: standby")
      #expect(
        AdminCommands.publishes(Lease(held: true, listening: true, announcementsHeard: 3, announcedRounds: 2))
          == "yes: lease held, 3 standby commits heard, 2 rounds by id")
      #expect(
        AdminCommands.publishes(Lease(held: true, listening: false, announcementsHeard: 3))
          == "yes: lease held, NOT hearing standby commits")
      await producer.close(timeout: .milliseconds(100))
    }
  }
}
