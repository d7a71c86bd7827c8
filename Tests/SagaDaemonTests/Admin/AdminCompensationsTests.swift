import AdminProtocol
import Foundation
import Payments
import SagaCore
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

@testable import SagaDaemon

/// `compensations list|retry|resolve` and `stuck` over the admin commands, on a bare
/// Payments database with one parked compensation and one stuck saga.
@Suite("Admin: compensations and stuck sagas", .timeLimit(.minutes(2)))
struct AdminCompensationsTests {
  private struct Fixture {
    let directory: TemporaryDirectory
    let payments: PaymentsService
    let commands: AdminCommands
    let parked: PayResult
    let stuck: PayResult

    init() async throws {
      directory = try TemporaryDirectory()
      payments = PaymentsService(
        database: try PaymentsDatabase(opening: StorageConfiguration(path: directory.path + "/payments.sqlite")))
      commands = AdminCommands(version: "9.9.9", roles: ["payments"], payments: payments, points: nil, pay: nil)
      try await payments.addUser(id: 1, initialBalance: 100_000)
      parked = try await payments.pay(PayRequest(userId: 1, scheduleId: 1, seat: nil, amount: 50_000))
      stuck = try await payments.pay(PayRequest(userId: 1, scheduleId: 2, seat: nil, amount: 10_000))
      // A compensation asking the wrong amount: parked for an operator.
      let event = CompensatePayment(paymentId: parked.paymentId, userId: 1, refundAmount: 1, reason: "reward failed")
      let message = InboundMessage(
        topic: CompensatePayment.topic.rawValue, partition: 0, offset: 0, key: nil, value: EventCodec.encode(event),
        headers: EventEnvelope(eventType: .compensatePayment, trace: .start()).headers)
      try await payments.database.write { db in
        try PaymentCompensationHandler().handle(
          message, context: MessageContext(envelope: message.envelope, service: .payments), in: db)
      }
      // The other one never hears back: reported at once with max_republish 0.
      _ = try await payments.republishStuck(
        now: Date().addingTimeInterval(3_600), stuckAfter: .seconds(60), maxRepublish: 0)
    }

    func run(_ line: String) async throws -> AdminReply {
      await commands.execute(try AdminRequest.parse(line))
    }
  }

  @Test("compensations list (table and JSON), resolve with a note, list --all; stuck lists the reported saga")
  func listResolveStuck() async throws {
    let fixture = try await Fixture()
    let table = try await fixture.run("compensations list")
    #expect(table.code == .ok && table.text.hasPrefix("1 open compensations"))
    #expect(table.lines.contains { $0.text.hasPrefix("\(fixture.parked.paymentId)\t1\t1\topen\t") })

    let json = try await fixture.run("compensations list --json")
    let document = try JSONDecoder().decode(AdminJSON.Compensations.self, from: Data(try #require(json.json).utf8))
    try #require(document.compensations.count == 1)
    let entry = document.compensations[0]
    #expect(entry.paymentId == fixture.parked.paymentId && entry.userId == 1 && entry.amount == 1)
    #expect(entry.status == "open" && entry.reasonCode == "amount-mismatch" && entry.note == nil)

    let retry = try await fixture.run("compensations retry \(fixture.parked.paymentId) --by ops")
    #expect(retry.code == .refused && retry.text.contains("still parked: amount-mismatch"))
    let missingNote = #expect(throws: AdminProtocolError.self) {
      try AdminRequest.parse("compensations resolve \(fixture.parked.paymentId)")
    }
    #expect(missingNote?.reply.code == .usage)
    let resolved = try await fixture.run(
      "compensations resolve \(fixture.parked.paymentId) --note 'refunded 50000 by hand' --by carol")
    #expect(resolved.code == .ok, "\(resolved.text)")
    #expect(try await fixture.run("compensations list").text.hasPrefix("0 open compensations"))
    let all = try await fixture.run("compensations list --all --json")
    let closed = try JSONDecoder().decode(AdminJSON.Compensations.self, from: Data(try #require(all.json).utf8))
    #expect(closed.compensations.map(\.status) == ["resolved"])
    #expect(closed.compensations.first?.note == "refunded 50000 by hand")
    #expect(closed.compensations.first?.resolvedBy == "carol")
    let again = try await fixture.run("compensations retry \(fixture.parked.paymentId)")
    #expect(again.code == .refused && again.text.hasPrefix("compensation-closed: "))
    let unknown = try await fixture.run("compensations retry 999")
    #expect(unknown.code == .notFound)

    let stuck = try await fixture.run("stuck --json")
    let sagas = try JSONDecoder().decode(AdminJSON.Stuck.self, from: Data(try #require(stuck.json).utf8))
    #expect(sagas.sagas.map(\.paymentId) == [fixture.stuck.paymentId])
    #expect(sagas.sagas.first?.state == "reported" && sagas.sagas.first?.status == "PAID")
    let stuckTable = try await fixture.run("stuck")
    #expect(stuckTable.code == .ok && stuckTable.text.hasPrefix("1 stuck sagas reported"))
  }

  @Test("the read level may list but not retry or resolve; operate may")
  func levels() async throws {
    let fixture = try await Fixture()
    let server = AdminServer(
      settings: AdminSettings(socketPath: fixture.directory.path + "/admin.sock"), commands: fixture.commands,
      version: "9.9.9", logger: quietLogger)
    let peer = PeerCredentials(pid: 1, uid: 1000, gid: 1000)
    func handle(_ line: String, _ level: PermissionLevel) async -> AdminReply {
      await server.handle(Array(line.utf8), peer: peer, level: level)
    }
    #expect(await handle("compensations list", .read).code == .ok)
    #expect(await handle("stuck", .read).code == .ok)
    let retry = await handle("compensations retry \(fixture.parked.paymentId)", .read)
    #expect(retry.code == .permissionDenied && retry.text.contains("needs level operate"))
    let resolve = await handle("compensations resolve \(fixture.parked.paymentId) --note x", .read)
    #expect(resolve.code == .permissionDenied)
    #expect(try await fixture.payments.openCompensationCount() == 1, "nothing changed at the read level")
    #expect(await handle("compensations resolve \(fixture.parked.paymentId) --note x", .operate).code == .ok)
  }
}
