import AdminProtocol
import Foundation
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

@testable import SagaDaemon

/// A dead letter written the way Spring's DeadLetterPublishingRecoverer writes one, but
/// by `kcat`: sagad's DLT worker stores it once and `dlt list` shows why and where from.
@Suite("Spring-style dead letters from kcat", .timeLimit(.minutes(2)))
struct DeadLetterKcatTests {
  @Test("a kcat-produced dead letter with kafka_dlt-* headers is stored once and listed with reason and origin")
  func springDeadLetter() async throws {
    try await SagaHarness.run(roles: [.points]) { harness in
      let kcat = try requiredTool("kcat")
      // The report's ReservationCompleted body: no eventVersion, no envelope headers.
      let body = #"{"paymentId":777,"userId":7,"reservationId":88,"paidAmount":30000}"#
      let fqcn = "org.springframework.kafka.listener.ListenerExecutionFailedException"
      let message = "Listener method threw exception; nested exception is NotFoundException: user 7"
      let sent = try await run(
        kcat,
        [
          "-P", "-b", harness.cluster.bootstrapServers, "-t", "reservation-completed.DLT", "-k", "777",
          "-H", "kafka_dlt-original-topic=reservation-completed", "-H", "kafka_dlt-original-partition=1",
          "-H", "kafka_dlt-original-offset=4242", "-H", "kafka_dlt-original-consumer-group=points-service",
          "-H", "kafka_dlt-exception-fqcn=\(fqcn)", "-H", "kafka_dlt-exception-message=\(message)",
          "-H", "__TypeId__=com.example.ReservationCompleted",
        ],
        input: body + "\n")
      #expect(sent.status == 0, "kcat -P failed: \(sent.stderr)")

      let store = harness.node.deadLetters.store
      try await eventually("the dead letter stored", timeout: .seconds(60)) { try await store.count() == 1 }

      let commands = AdminCommands(node: harness.node)
      let reply = await commands.execute(try AdminRequest.parse("dlt list --topic reservation-completed --json"))
      #expect(reply.code == .ok, "\(reply.lines)")
      let list = try JSONDecoder().decode(AdminJSON.DeadLetters.self, from: Data(try #require(reply.json).utf8))
      let letter = try #require(list.deadLetters.first)
      #expect(list.deadLetters.count == 1)
      #expect(letter.topic == "reservation-completed.DLT")
      #expect(letter.originalTopic == "reservation-completed")
      #expect(letter.originalPartition == 1)
      #expect(letter.originalOffset == 4242)
      #expect(letter.reason == message)
      #expect(letter.status == "pending")

      let shown = await commands.execute(try AdminRequest.parse("dlt show \(letter.id) --json"))
      let detail = try JSONDecoder().decode(AdminJSON.DeadLetter.self, from: Data(try #require(shown.json).utf8))
      #expect(detail.errorType == fqcn)
      #expect(detail.originalConsumerGroup == "points-service")
      #expect(detail.key == "777")
      #expect(detail.value == body)
      #expect(detail.replayTopic == "reservation-completed")
      #expect(detail.replayOf == "offset:reservation-completed[1]@4242")

      // Stored once: the DLT worker's committed offset moves past it, and the table text
      // names the reason too.
      let table = await commands.execute(try AdminRequest.parse("dlt list"))
      #expect(table.lines.contains { $0.text.contains("NotFoundException") })
      #expect(try await store.count() == 1)
      let worker = try #require(harness.node.deadLetterWorkers.first)
      #expect(worker.statistics.stored == 1)
      #expect(worker.statistics.duplicates == 0)
    }
  }
}
