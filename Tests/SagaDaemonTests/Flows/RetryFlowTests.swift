import Foundation
import GRDB
import Logging
import Payments
import Points
import SagaCore
import SagaDaemon
import SagaKafka
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

/// Retries and dead letters through the whole saga: both services on the embedded cluster,
/// faults injected with the node's failpoints, dead letters read back from Kafka.
@Suite("Retries and dead letters on the embedded cluster", .timeLimit(.minutes(3)))
struct RetryFlowTests {
  /// A node with a quick retry policy (100 ms first backoff) and failpoints enabled, on
  /// one-partition topics so that records keep one order.
  private static func withNode(
    roles: Set<SagaNodeConfiguration.Role> = [.payments, .points], producerProperties: [String: String] = [:],
    retry: RetryPolicy = RetryPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(1)),
    _ body: (SagaHarness) async throws -> Void
  ) async throws {
    try await SagaHarness.run(
      roles: roles, partitions: 1,
      configure: { configuration in
        configuration.retry = retry
        configuration.failpointsEnabled = true
        configuration.producerProperties = producerProperties
      }, body)
  }
  @Test("a reward failing twice is retried: REWARDED once, 3 attempts, the payment behind it rewarded first")
  func transientTwiceThenRewarded() async throws {
    // The parked record waits 5 s: far longer than the healthy payment behind it needs to
    // arrive, even on a loaded machine, so the order below shows the partition moved on.
    let parkedFor = RetryPolicy(initialDelay: .seconds(5), maxDelay: .seconds(5), jitter: 0)
    try await Self.withNode(retry: parkedFor) { harness in
      for user: Int64 in [1, 2] {
        try await harness.payments.addUser(id: user, initialBalance: 100_000)
        _ = try await harness.points.enroll(userId: user)
      }
      try harness.node.failpoints.set(.pointsReward, .errorTransient, trigger: .count(2))
      let retried = try await harness.node.pay(PayRequest(userId: 1, scheduleId: 1, seat: "A1", amount: 50_000))
      let healthy = try await harness.node.pay(PayRequest(userId: 2, scheduleId: 1, seat: "A2", amount: 20_000))
      #expect(try await harness.waitForTerminal(retried.paymentId).status == .rewarded)
      #expect(try await harness.waitForTerminal(healthy.paymentId).status == .rewarded)
      #expect(try await harness.points.balance(userId: 1) == 5_000, "rewarded once")
      let first = try #require(try await harness.points.reward(userId: 1, paymentId: retried.paymentId))
      let second = try #require(try await harness.points.reward(userId: 2, paymentId: healthy.paymentId))
      #expect(second.pointId < first.pointId, "the healthy payment behind it was rewarded before the retried one")
      // 3 attempts of the one failing record: 1 + an in-place retry + one from the schedule.
      let stats = harness.pointsWorker.statistics
      #expect(stats.retries == 2 && stats.retriesScheduled == 1 && stats.retriedOK == 1)
      #expect(stats.deadLettered == 0 && stats.retryScheduleDepth == 0)
      #expect(harness.node.failpoints.list().isEmpty, "both injected failures were used")
      #expect(try await harness.pointsOutbox("reservation-completed.DLT") == 0)
      #expect(try await harness.pointsOutbox("compensate-payment") == 0)
      let refunds = try await harness.payments.database.read { db in
        try db.value(Int.self, "SELECT COUNT(*) FROM refunds") ?? 0
      }
      #expect(refunds == 0)
      #expect(try await harness.payments.verify().isEmpty)
      #expect(try await harness.points.verify().isEmpty)
    }
  }

  @Test("a reward failing for ever: one dead letter with the DLT headers, one PointRewardFailed, one refund")
  func alwaysTransientIsDeadLetteredAndCompensated() async throws {
    try await Self.withNode { harness in
      try await harness.payments.addUser(id: 1, initialBalance: 100_000)
      _ = try await harness.points.enroll(userId: 1)
      try harness.node.failpoints.set(.pointsReward, .errorTransient, trigger: .always)
      let paid = try await harness.node.pay(PayRequest(userId: 1, scheduleId: 1, seat: "A1", amount: 50_000))
      let view = try await harness.waitForTerminal(paid.paymentId)
      #expect(view.status == .refunded)
      #expect(try await harness.payments.balance(userId: 1) == 100_000)

      let letters = try await harness.read("reservation-completed.DLT", atLeast: 1)
      #expect(letters.count == 1, "exactly one dead letter")
      let letter = try #require(letters.first)
      let original = try #require(try await harness.read("reservation-completed", atLeast: 1).first)
      #expect(letter.key == original.key && letter.value == original.value)
      #expect(letter.headers.last(named: "eventId")?.text == original.headers.last(named: "eventId")?.text)
      #expect(letter.headers.last(named: "kafka_dlt-original-topic")?.text == "reservation-completed")
      // Spring's encoding: 4- and 8-byte big-endian integers.
      #expect(letter.headers.bytes("kafka_dlt-original-partition") == [0, 0, 0, 0])
      #expect(letter.headers.bytes("kafka_dlt-original-offset") == bigEndian(original.offset))
      #expect(letter.headers.bytes("kafka_dlt-original-timestamp") == original.timestampMilliseconds.map(bigEndian))
      #expect(letter.headers.last(named: "kafka_dlt-original-timestamp-type")?.text == "CreateTime")
      #expect(letter.headers.last(named: "kafka_dlt-original-consumer-group")?.text == "points-service")
      #expect(letter.headers.last(named: "kafka_dlt-exception-fqcn")?.text == "SagaCore.SagaError")
      #expect(
        letter.headers.last(named: "kafka_dlt-exception-message")?.text == "injected-transient: failpoint points.reward"
      )
      #expect(letter.headers.last(named: "sagad-attempts")?.text == "3")
      #expect(letter.headers.last(named: "sagad-failure-class")?.text == "exhausted")

      #expect(try await harness.pointsOutbox("point-reward-failed") == 1)
      #expect(try await harness.pointsOutbox("compensate-payment") == 1)
      let failure = try #require(try await harness.points.rewardFailure(userId: 1, paymentId: paid.paymentId))
      #expect(failure.reasonCode == .injectedTransient)
      #expect(failure.reason.contains("gave up after 3 attempts"))
      let refunds = try await harness.payments.database.read { db in
        try db.value(Int.self, "SELECT COUNT(*) FROM refunds WHERE payment_id = ?", [paid.paymentId])
      }
      #expect(refunds == 1)
      let stats = harness.pointsWorker.statistics
      #expect(stats.deadLettered == 1 && stats.retryScheduleDepth == 0)
      #expect(try await harness.payments.verify().isEmpty)
      #expect(try await harness.points.verify().isEmpty)
    }
  }

  /// Bodies no retry can fix, each with the reason code its dead letter must state.
  private static let poison: [(name: String, body: [UInt8], code: String)] = [
    ("not JSON", Array("payment 7 done".utf8), "invalid-json"),
    ("invalid UTF-8", [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D], "invalid-json"),
    (
      "wrong type", Array(#"{"paymentId":"seven","userId":1,"reservationId":3,"paidAmount":100}"#.utf8),
      "wrong-type"
    ),
    ("missing fields", Array(#"{"paymentId":7}"#.utf8), "missing-field"),
    ("zero id", Array(#"{"paymentId":0,"userId":1,"reservationId":3,"paidAmount":100}"#.utf8), "invalid-value"),
    // A paidAmount of 0 is a valid payment (a Java peer's Long 0, rewarded with 0); null is not.
    (
      "null amount", Array(#"{"paymentId":11,"userId":1,"reservationId":3,"paidAmount":null}"#.utf8),
      "missing-field"
    ),
    (
      "negative amount", Array(#"{"paymentId":8,"userId":1,"reservationId":3,"paidAmount":-100}"#.utf8),
      "invalid-value"
    ),
    (
      "1 MiB body",
      Array(#"{"paymentId":9,"userId":1,"reservationId":3,"paidAmount":"#.utf8)
        + Array(repeating: UInt8(ascii: "9"), count: 1 << 20) + [UInt8(ascii: "}")],
      "wrong-type"
    ),
    (
      "major version 2",
      Array(#"{"eventVersion":"2.0","paymentId":10,"userId":1,"reservationId":3,"paidAmount":100}"#.utf8),
      "unsupported-version"
    ),
  ]

  @Test("a poison corpus is dead-lettered once each with a readable reason, and the consumer keeps going")
  func poisonCorpus() async throws {
    // librdkafka refuses to produce a message above message.max.bytes (1,000,000 by default):
    // raised for the test's producer and the node's relay, which republishes the 1 MiB body.
    let large = ["message.max.bytes": "4000000"]
    try await Self.withNode(roles: [.points], producerProperties: large) { harness in
      _ = try await harness.points.enroll(userId: 1)
      var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: harness.cluster.bootstrapServers)
      producerConfiguration.overrides = large
      let producer = try KafkaProducer(configuration: producerConfiguration, logger: SagaHarness.logger)
      // The last message is valid and must be rewarded after the poison.
      let valid = Array(#"{"paymentId":12,"userId":1,"reservationId":4,"paidAmount":12345}"#.utf8)
      let bodies = Self.poison.map(\.body) + [valid]
      let messages = bodies.enumerated().map { index, body in
        KafkaProducerMessage(
          topic: "reservation-completed", key: Array("k\(index)".utf8), value: body, headers: [])
      }
      for ticket in try await producer.send(messages) {
        let report = await ticket.report
        #expect(report.isPersisted, "\(report)")
      }
      await producer.close()

      try await eventually("the valid message after the poison rewarded", timeout: .seconds(60)) {
        try await harness.points.reward(userId: 1, paymentId: 12)?.amount == 1_200
      }
      #expect(try await harness.points.reward(userId: 1, paymentId: 11) == nil)
      let letters = try await harness.read("reservation-completed.DLT", atLeast: Self.poison.count)
      #expect(letters.count == Self.poison.count, "each poison message dead-lettered exactly once")
      for (index, poison) in Self.poison.enumerated() {
        let matching = letters.filter { $0.headers.bytes("kafka_dlt-original-offset") == bigEndian(Int64(index)) }
        #expect(matching.count == 1, "\(poison.name)")
        guard let letter = matching.first else { continue }
        #expect(letter.value == poison.body, "\(poison.name): the original body, byte for byte")
        #expect(letter.key == Array("k\(index)".utf8))
        let reason = letter.headers.last(named: "kafka_dlt-exception-message")?.text ?? ""
        #expect(reason.hasPrefix(poison.code + ": "), "\(poison.name): \(reason.prefix(200))")
        #expect(reason.count > poison.code.count + 10 && reason.count <= 4_200, "\(poison.name): a readable reason")
        #expect(letter.headers.last(named: "sagad-failure-class")?.text == "permanent")
        #expect(letter.headers.last(named: "sagad-attempts")?.text == "1")
      }
      try await eventually("the statistics updated") {
        harness.pointsWorker.statistics.deadLettered == Self.poison.count
      }
      #expect(try await harness.points.verify().isEmpty)
    }
  }
}

extension SagaHarness {
  var pointsWorker: ConsumeWorker { node.workers.first { $0.name == "points" }! }

  /// Rows the points service wrote to its outbox for `topic`, sent or not: each is one
  /// event or dead letter (retention keeps sent rows for a day).
  func pointsOutbox(_ topic: String) async throws -> Int {
    try await points.database.read { db in
      try db.value(Int.self, "SELECT COUNT(*) FROM outbox WHERE topic = ?", [topic]) ?? 0
    }
  }

  /// Every record of `topic` (one partition) once at least `count` are there.
  func read(_ topic: String, atLeast count: Int) async throws -> [KafkaConsumerMessage] {
    let consumer = try KafkaConsumer(
      configuration: KafkaConsumerConfiguration(
        bootstrapServers: cluster.bootstrapServers, groupId: "test-reader-\(UUID().uuidString)"),
      logger: SagaHarness.logger)
    try await consumer.assign([
      TopicPartitionOffset(topic: topic, partition: 0, offset: TopicPartitionOffset.beginning)
    ])
    var records: [KafkaConsumerMessage] = []
    try await eventually("\(count) records on \(topic)", timeout: .seconds(60)) {
      records += try await consumer.poll(maxMessages: 100, timeout: .milliseconds(200))
      return records.count >= count
    }
    // One more look, so that a duplicate right behind them is seen too.
    records += try await consumer.poll(maxMessages: 100, timeout: .milliseconds(300))
    await consumer.close()
    return records
  }
}

extension Array where Element == RecordHeader {
  /// The last value of `name`, byte for byte.
  fileprivate func bytes(_ name: String) -> [UInt8]? { last(named: name)?.bytes }
}

/// Java's `ByteBuffer.putInt` / `putLong`: what Spring writes in `kafka_dlt-original-*`.
private func bigEndian<Integer: FixedWidthInteger>(_ value: Integer) -> [UInt8] {
  withUnsafeBytes(of: value.bigEndian) { Array($0) }
}
