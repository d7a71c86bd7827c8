import Foundation
import Logging
import SagaCore
import SagaKafka
import SagaTestSupport
import Testing

/// The wire contract against a client nobody here wrote: `kcat` (librdkafka's own CLI)
/// and SagaKafka must read each other's records, keys and headers byte for byte, through
/// a `sagad dev-broker` in another process.
@Suite("kcat interoperability", .timeLimit(.minutes(2)))
struct KcatInteropTests {
  private let logger: Logger = {
    var logger = Logger(label: "kcat-interop")
    logger.logLevel = .warning
    return logger
  }()

  @Test("a record produced by kcat reaches KafkaConsumer with key, value and headers intact")
  func kcatToKafkaConsumer() async throws {
    let broker = try await DevBrokerProcess.start()
    defer { broker.cleanUp() }
    let topic = SagaTopic.reservationCompleted.rawValue
    let eventId = UUID().uuidString.lowercased()
    // The report's Spring services send this body, without eventVersion.
    let body = #"{"paymentId":42,"userId":7,"reservationId":99,"paidAmount":15000}"#

    let produced = try await run(
      try requiredTool("kcat"),
      [
        "-P", "-b", broker.bootstrap, "-t", topic, "-k", "42",
        "-H", "eventId=\(eventId)", "-H", "eventType=ReservationCompleted", "-H", "h1=v1",
      ],
      input: body + "\n")
    #expect(produced.status == 0, "kcat -P failed: \(produced.stderr)")

    var configuration = KafkaConsumerConfiguration(bootstrapServers: broker.bootstrap, groupId: "kcat-\(eventId)")
    configuration.sessionTimeout = .seconds(6)
    let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
    try await consumer.subscribe(topics: [topic])
    var received: [KafkaConsumerMessage] = []
    do {
      try await eventually("kcat's record at the consumer") {
        received += try await consumer.poll(maxMessages: 10, timeout: .milliseconds(200))
        return !received.isEmpty
      }
    } catch {
      await consumer.close()
      throw error
    }
    await consumer.close()

    let message = try #require(received.first)
    #expect(received.count == 1)
    #expect(message.topic == topic)
    #expect(message.keyString == "42")
    #expect(message.valueString == body)
    #expect(
      message.headers == [
        RecordHeader(name: "eventId", value: eventId),
        RecordHeader(name: "eventType", value: "ReservationCompleted"),
        RecordHeader(name: "h1", value: "v1"),
      ])
    #expect(message.timestampMilliseconds != nil)
  }

  @Test("a record produced by KafkaProducer reaches kcat with key, value and headers intact")
  func kafkaProducerToKcat() async throws {
    let broker = try await DevBrokerProcess.start()
    defer { broker.cleanUp() }
    let topic = SagaTopic.pointRewardCompleted.rawValue
    let eventId = UUID().uuidString.lowercased()
    let body = #"{"eventVersion":"1.0","pointId":5,"userId":7,"rewardedAmount":1500,"reservationId":99,"paymentId":42}"#
    let headers = [
      RecordHeader(name: "eventId", value: eventId),
      RecordHeader(name: "eventType", value: "PointRewardCompleted"),
      RecordHeader(name: "traceparent", value: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
      RecordHeader(name: "producer", value: "sagad/points"),
    ]

    let producer = try KafkaProducer(
      configuration: KafkaProducerConfiguration(bootstrapServers: broker.bootstrap), logger: logger)
    let report = try await producer.send(
      KafkaProducerMessage(topic: topic, key: "42", value: body, headers: headers)
    ).report
    await producer.close()
    #expect(report.isPersisted, "delivery: \(report)")

    // %h prints headers as name=value pairs joined by commas; none of ours contain
    // '|', ',' or '=' in a value, so the line splits unambiguously.
    let consumed = try await run(
      try requiredTool("kcat"),
      ["-C", "-b", broker.bootstrap, "-t", topic, "-o", "beginning", "-e", "-c", "1", "-f", "%k|%h|%s\n"])
    #expect(consumed.status == 0, "kcat -C failed: \(consumed.stderr)")
    let line = try #require(consumed.stdout.split(separator: "\n").first.map(String.init))
    let fields = line.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
    try #require(fields.count == 3, "unexpected kcat line: \(line)")
    #expect(fields[0] == "42")
    #expect(fields[1] == headers.map { "\($0.name)=\($0.value)" }.joined(separator: ","))
    #expect(fields[2] == body)
  }
}
