import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

/// The README path: `sagad --dev` as a process of its own, driven only through the built
/// `sagactl` binary, as an operator would.
@Suite("sagactl against sagad --dev", .timeLimit(.minutes(2)))
struct AdminEndToEndTests {
  private struct Result {
    let status: Int32
    let stdout: String
    let stderr: String
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
      try JSONDecoder().decode(type, from: Data(stdout.utf8))
    }
  }

  @Test("user add, pay --json, payment until REWARDED, balance, verify; usage errors exit 2, errors 1")
  func operatorSession() async throws {
    let dev = try DevDaemon()
    let (daemon, socket) = (dev.process, dev.socket)
    defer { daemon.killIfRunning() }
    let sagactl = try sagactlBinary()
    func ctl(_ arguments: String...) async throws -> Result {
      let result = try await run(sagactl, ["--socket", socket] + arguments)
      return Result(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }
    do {
      try await waitForAdminSocket(socket, of: daemon)
      let mode = try FileManager.default.attributesOfItem(atPath: socket)[.posixPermissions] as? Int
      #expect(mode == 0o660)

      let added = try await ctl("user", "add", "1", "--balance", "100000")
      #expect(added.status == 0, "\(added.stderr)")

      let paid = try await ctl("pay", "--user", "1", "--schedule", "1", "--amount", "50000", "--json")
      #expect(paid.status == 0, "\(paid.stderr)")
      let payment = try paid.decode(AdminJSON.Paid.self)
      #expect(payment.status == "PAID")
      #expect(payment.duplicate == false)

      var view: AdminJSON.Payment?
      try await eventually("payment \(payment.paymentId) to be REWARDED", timeout: .seconds(60)) {
        let shown = try await ctl("--json", "payment", String(payment.paymentId))
        view = try? shown.decode(AdminJSON.Payment.self)
        return view?.status == "REWARDED"
      }
      #expect(view?.userId == 1)
      #expect(view?.reservationId == payment.reservationId)
      #expect(view?.amount == 50_000)

      let balance = try await ctl("balance", "1", "--json")
      #expect(try balance.decode(AdminJSON.Balance.self) == AdminJSON.Balance(userId: 1, wallet: 50_000, points: 5_000))

      let saga = try await ctl("saga", String(payment.paymentId))
      #expect(saga.status == 0)
      #expect(saga.stdout.contains("reward-completed"))

      let verify = try await ctl("verify")
      #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
      #expect(
        try await ctl("verify", "--json").decode(AdminJSON.Verify.self) == AdminJSON.Verify(ok: true, violations: []))

      // 9xxx from sagad, and a line sagactl cannot parse itself: both exit 2.
      let zero = try await ctl("pay", "--user", "1", "--schedule", "2", "--amount", "0")
      #expect(zero.status == 2)
      #expect(zero.stderr.contains("9000"))
      #expect(try await ctl("frobnicate").status == 2)
      #expect(try await ctl("pay", "--user", "1").status == 2)
      // 8xxx: exit 1.
      let missing = try await ctl("payment", "999")
      #expect(missing.status == 1)
      #expect(missing.stderr.contains("8001"))
      let noSocket = try await run(sagactl, ["--socket", dev.directory.path + "/none.sock", "status"])
      #expect(noSocket.status == 1)
      #expect(noSocket.stderr.contains("no sagad socket"))

      daemon.signal(SIGTERM)
      #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 0)
      #expect(!FileManager.default.fileExists(atPath: socket))
    } catch {
      Issue.record("sagad stderr:\n\(daemon.stderr.text.suffix(4000))")
      throw error
    }
  }
}
