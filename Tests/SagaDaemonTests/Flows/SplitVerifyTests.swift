import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

/// `verify --peer`: with the roles on two sagads, the cross-service audit runs across both,
/// and points minted by forged events are caught.
@Suite("verify across two sagads", .timeLimit(.minutes(2)))
struct SplitVerifyTests {
  @Test("split roles: verify --peer is clean after a saga, and flags a reward for a payment that does not exist")
  func forgedRewardAcrossTwoSagads() async throws {
    let broker = try await DevBrokerProcess.start()
    defer { broker.cleanUp() }
    let pair = try await SplitPair.start(broker: broker.bootstrap)
    defer { pair.stop() }
    let (paymentsNode, pointsNode) = (pair.payments, pair.points)
    let (paymentsDaemon, pointsDaemon) = (pair.paymentsDaemon, pair.pointsDaemon)
    do {
      let payments = try await connectAdmin(paymentsNode.socket, of: paymentsDaemon)
      let points = try await connectAdmin(pointsNode.socket, of: pointsDaemon)
      #expect(try await payments.send("user add 1 --balance 100000 --no-points").code == .ok)
      #expect(try await points.send("user add 1").code == .ok)
      #expect(try await payments.send("pay --user 1 --schedule 1 --amount 50000").code == .ok)
      try await eventually("payment 1 to be rewarded", timeout: .seconds(60)) {
        try decodeReply(AdminJSON.Payment.self, try await payments.send("payment 1 --json")).status == "REWARDED"
      }
      let alone = try await payments.send("verify")
      #expect(alone.code == .ok && !alone.text.contains("across both"), "\(alone.text)")
      let clean = try await payments.send("verify --peer '\(pointsNode.socket)'")
      #expect(clean.code == .ok, "\(clean.lines)")
      #expect(clean.text.contains("across both"), "\(clean.text)")

      // A well-formed ReservationCompleted nobody paid for, from an outside producer.
      let forged = #"{"paymentId":9001,"userId":1,"reservationId":77,"paidAmount":1000000000}"#
      let produced = try await run(
        try requiredTool("kcat"), ["-P", "-b", broker.bootstrap, "-t", "reservation-completed"], input: forged + "\n")
      #expect(produced.status == 0, "\(produced.stderr)")
      try await eventually("Points to credit the forged reward", timeout: .seconds(30)) {
        try decodeReply(AdminJSON.Balance.self, try await points.send("balance --user 1 --json")).points
          == 5_000 + 100_000_000
      }
      #expect(try await points.send("verify").code == .ok, "Points alone sees balances that add up")
      let caught = try await payments.send("verify --peer '\(pointsNode.socket)'")
      #expect(caught.code == .verifyFailed)
      #expect(
        caught.lines.contains {
          $0.text.contains("payment 9001 (user 1, paid 1000000000 KRW): Payments has no such payment")
        },
        "\(caught.lines)")
      // From the other side too.
      let mirrored = try await points.send("verify --peer '\(paymentsNode.socket)'")
      #expect(mirrored.code == .verifyFailed, "\(mirrored.lines)")
      // An unreachable peer is a coded error, not a hang or a crash.
      let nobody = try await payments.send("verify --peer /nonexistent/sagad.sock")
      #expect(nobody.code == .unavailable, "\(nobody.lines)")
    } catch {
      Issue.record("\(pair.stderr)")
      throw error
    }
  }
}
