import AdminProtocol
import Foundation
import SagaCore
import SagaKafka
import SagaTestSupport
import Testing

/// A hostile producer's ~1 MB record on `reservation-completed` (within a broker's default
/// limit): Points dead-letters it, and the dead letter (the record plus its failure headers)
/// is larger than the producer's `message.max.bytes`. It must not jam Points' outbox: it is
/// kept in the dead-letter store, and the sagas after it finish without the relay ever
/// backing off (Docs/retries-and-dead-letters.md, "Records that cannot be sent").
@Suite("an oversized record on a live sagad", .timeLimit(.minutes(3)))
struct OversizedRecordTests {
  @Test("a 1 MB record on reservation-completed: later payments are rewarded, no relay failure, it is in dlt list")
  func oversizedRecordDoesNotJamTheOutbox() async throws {
    let daemon = try await MetricsEndpointTests.Daemon()
    defer { daemon.stop() }
    do {
      let sagactl = try sagactlBinary()
      func ctl(_ arguments: String...) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await run(sagactl, ["--socket", daemon.socket] + arguments)
      }
      // What a broker with default settings accepts (message.max.bytes 1048588) and sagad's
      // producer (1000000) refuses once dead-letter headers are added.
      var config = KafkaProducerConfiguration(bootstrapServers: daemon.bootstrap)
      config.overrides["message.max.bytes"] = "1048588"
      let producer = try KafkaProducer(configuration: config, logger: SagaHarness.logger)
      let body = [UInt8](repeating: UInt8(ascii: "x"), count: 1_010_000)
      let ticket = try await producer.send(
        KafkaProducerMessage(topic: "reservation-completed", key: Array("big".utf8), value: body))
      #expect(await ticket.report.isPersisted)
      await producer.close()

      try await daemon.admin("user add 1 --balance 100000000")
      var payments: [Int64] = []
      for schedule in 1...20 {
        let paid = try await ctl("--json", "pay", "--user", "1", "--schedule", "\(schedule)", "--amount", "1000")
        #expect(paid.status == 0, "\(paid.stderr)")
        payments.append(try JSONDecoder().decode(AdminJSON.Paid.self, from: Data(paid.stdout.utf8)).paymentId)
      }
      try await eventually("every payment rewarded", timeout: .seconds(60)) {
        for payment in payments {
          let shown = try await ctl("--json", "payment", "\(payment)")
          let view = try? JSONDecoder().decode(AdminJSON.Payment.self, from: Data(shown.stdout.utf8))
          guard view?.status == "REWARDED" else { return false }
        }
        return true
      }

      // The big one is a dead letter an operator can see, kept whole.
      let listed = try await ctl("--json", "dlt", "list", "--topic", "reservation-completed")
      #expect(listed.status == 0, "\(listed.stderr)")
      let letters = try JSONDecoder().decode(AdminJSON.DeadLetters.self, from: Data(listed.stdout.utf8))
      let letter = try #require(letters.deadLetters.first)
      #expect(letters.deadLetters.count == 1)
      #expect(letter.origin?.hasPrefix("outbox:points:") == true)
      #expect(letter.reasonCode == "invalid-json")
      #expect(letter.originalTopic == "reservation-completed")
      let shown = try await ctl("--json", "dlt", "show", "\(letter.id)")
      let detail = try JSONDecoder().decode(AdminJSON.DeadLetter.self, from: Data(shown.stdout.utf8))
      #expect(detail.valueBytes == body.count)
      #expect(detail.headers.contains { $0.name == HeaderName.unsent && $0.value.contains("MSG_SIZE_TOO_LARGE") })

      // Its outbox row is closed; nothing of Points' outbox is pending.
      let outbox = try await ctl("--json", "outbox", "list", "--service", "points", "--all", "--limit", "1000")
      #expect(outbox.status == 0, "\(outbox.stderr)")
      let rows = try JSONDecoder().decode(AdminJSON.OutboxRows.self, from: Data(outbox.stdout.utf8)).rows
      let closed = rows.filter { $0.state == "closed" }
      #expect(closed.count == 1)
      #expect(closed.first?.topic == "reservation-completed.DLT")
      #expect((closed.first?.bytes ?? 0) == body.count)
      #expect(!rows.contains { $0.state == "pending" })

      // No failed attempt: the relay never backed off behind it.
      let scrape = try await daemon.scrape()
      #expect(scrape.contains(#"sagad_outbox_dead_lettered_total{service="points"} 1"#))
      #expect(scrape.contains(#"sagad_outbox_publish_failures_total{service="points"} 0"#))
    } catch {
      Issue.record("sagad stderr:\n\(daemon.process.stderr.text.suffix(4000))")
      throw error
    }
  }
}
