import AdminProtocol
import Foundation
import SagaCore
import SagaKafka
import SagaStorage
import SagaTestSupport
import Testing

@testable import SagaDaemon

/// Dead letters between sagad and `kcat`, a client nobody here wrote: one written the way
/// Spring's DeadLetterPublishingRecoverer writes one (in sagad's earlier decimal text) is
/// stored once and listed with why and where from; one sagad writes reaches kcat with
/// Spring's binary encoding and the failed record's bytes.
@Suite("Spring-style dead letters and kcat", .timeLimit(.minutes(2)))
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

  @Test("a record sagad dead-letters reaches kcat with Spring's binary integers and the original bytes")
  func sagadDeadLetterAsKcatSeesIt() async throws {
    try await SagaHarness.run(roles: [.points]) { harness in
      let kcat = try requiredTool("kcat")
      // A peer's record that is not JSON, with a key that is not UTF-8 and a binary header.
      let key: [UInt8] = [0xFF, 0x00, 0xFE]
      let binary: [UInt8] = [0x00, 0xFF, 0x80, 0x2C, 0x3D]  // includes ',' and '=', which kcat prints raw
      let producer = try KafkaProducer(
        configuration: KafkaProducerConfiguration(bootstrapServers: harness.cluster.bootstrapServers),
        logger: SagaHarness.logger)
      let report = try await producer.send(
        KafkaProducerMessage(
          topic: "reservation-completed", partition: 1, key: key, value: Array("not json".utf8),
          headers: [RecordHeader(name: "x-bin", bytes: binary), RecordHeader(name: "x-text", value: "포인트")])
      ).report
      await producer.close()
      #expect(report.isPersisted, "\(report)")
      #expect(report.offset == 0, "the first record of partition 1")

      let store = harness.node.deadLetters.store
      try await eventually("the dead letter stored", timeout: .seconds(60)) { try await store.count() == 1 }
      let stored = try #require(try await store.list(limit: 1).first)
      // The DLT worker reads the binary integers back.
      #expect(stored.originalPartition == 1 && stored.originalOffset == 0)
      let timestamp = try #require(stored.originalTimestampMilliseconds)

      // -J: kcat's view that keeps every byte (its `%h` format ends a value at a zero byte).
      let consumed = try ChildProcess(
        kcat,
        [
          "-C", "-b", harness.cluster.bootstrapServers, "-t", "reservation-completed.DLT", "-o", "beginning", "-e",
          "-J",
        ],
        pipeStdin: false)
      defer { consumed.killIfRunning() }
      #expect(try await consumed.waitForExit(timeout: .seconds(30)) == 0, "kcat -C: \(consumed.stderr.text)")
      let lines = consumed.stdout.bytes.split(separator: UInt8(ascii: "\n")).map(Array.init)
      #expect(lines.count == 1, "one dead letter: \(consumed.stdout.text)")
      let printed = try #require(lines.first.flatMap(KcatJSONRecord.init), "\(consumed.stdout.text)")

      // The partition and offset bytes are written out by hand from Java's
      // ByteBuffer.putInt(1) and putLong(0); the timestamp is the one the DLT worker read
      // back from them.
      let reason = stored.reason
      #expect(reason.hasPrefix("invalid-json: "))
      let expected: [(String, [UInt8])] = [
        ("x-bin", binary),
        ("x-text", Array("포인트".utf8)),
        ("kafka_dlt-original-topic", Array("reservation-completed".utf8)),
        ("kafka_dlt-original-partition", [0x00, 0x00, 0x00, 0x01]),
        ("kafka_dlt-original-offset", [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]),
        ("kafka_dlt-original-timestamp", withUnsafeBytes(of: timestamp.bigEndian) { Array($0) }),
        ("kafka_dlt-original-timestamp-type", Array("CreateTime".utf8)),
        ("kafka_dlt-original-consumer-group", Array("points-service".utf8)),
        ("kafka_dlt-exception-fqcn", Array("SagaCore.SagaError".utf8)),
        ("kafka_dlt-exception-message", Array(reason.utf8)),
        ("kafka_dlt-exception-stacktrace", Array("SagaCore.SagaError: \(reason)".utf8)),
        ("sagad-attempts", Array("1".utf8)),
        ("sagad-failure-class", Array("permanent".utf8)),
      ]
      #expect(printed.key == key)
      #expect(printed.headers.map(\.name) == expected.map(\.0))
      for (header, want) in zip(printed.headers, expected) {
        #expect(header.value == want.1, "\(header.name)")
      }
      // Spring's 8-byte timestamp, not sagad's earlier decimal text.
      #expect(printed.headers.first { $0.name == "kafka_dlt-original-timestamp" }?.value?.count == 8)

      // `dlt show` prints the binary integers as numbers and other bytes as hex.
      let commands = AdminCommands(node: harness.node)
      let shown = await commands.execute(try AdminRequest.parse("dlt show \(stored.id) --json"))
      let detail = try JSONDecoder().decode(AdminJSON.DeadLetter.self, from: Data(try #require(shown.json).utf8))
      let values = Dictionary(detail.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
      #expect(values["kafka_dlt-original-partition"] == "1 (4-byte big-endian)")
      #expect(values["kafka_dlt-original-offset"] == "0 (8-byte big-endian)")
      #expect(values["kafka_dlt-original-timestamp"] == "\(timestamp) (8-byte big-endian)")
      #expect(values["x-bin"] == "<5 bytes: 00ff802c3d>")
      #expect(detail.key == nil, "a key that is not UTF-8 is not shown as text")

      // Replayed, it is the original again, byte for byte: key and header values as the peer sent them.
      let replay = await commands.execute(try AdminRequest.parse("dlt replay \(stored.id)"))
      #expect(replay.code == .ok, "\(replay.lines)")
      let again = try ChildProcess(
        kcat,
        ["-C", "-b", harness.cluster.bootstrapServers, "-t", "reservation-completed", "-o", "beginning", "-e", "-J"],
        pipeStdin: false)
      defer { again.killIfRunning() }
      #expect(try await again.waitForExit(timeout: .seconds(30)) == 0, "kcat -C: \(again.stderr.text)")
      let records = again.stdout.bytes.split(separator: UInt8(ascii: "\n")).compactMap { KcatJSONRecord(Array($0)) }
      let replayed = try #require(
        records.first { record in record.headers.contains { $0.name == HeaderName.replayOf } }, "\(again.stdout.text)")
      #expect(replayed.key == key)
      #expect(replayed.headers.first { $0.name == "x-bin" }?.value == binary)
      #expect(replayed.headers.first { $0.name == "x-text" }?.value == Array("포인트".utf8))
      #expect(!replayed.headers.contains { $0.name.hasPrefix("kafka_dlt-") }, "the dead-letter bookkeeping is left out")
    }
  }
}
