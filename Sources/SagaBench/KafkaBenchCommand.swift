import ArgumentParser
import Foundation
import Logging
import SagaKafka

/// One leg of `make bench-kafka`: produce or consume N messages through SagaKafka
/// against an already running broker and print the result as one JSON line, so the
/// script can put it beside kcat's figures from the same broker.
struct KafkaBenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kafka", abstract: "Measure SagaKafka produce or consume throughput against a broker.")

  enum Mode: String, ExpressibleByArgument {
    case produce
    case consume
  }

  @Option(help: "Bootstrap servers (host:port,…).") var bootstrap: String
  @Option(help: "Topic to use.") var topic: String
  @Option(help: "produce or consume.") var mode: Mode
  @Option(help: "Number of messages.") var messages = 100_000
  @Option(help: "Payload size in bytes (produce).") var size = 200
  @Option(help: "Consumer group (consume).") var group = "sagad-bench"
  @Option(help: "Read these many partitions directly instead of joining the group (consume).")
  var assignPartitions: Int32?
  @Option(help: "Messages per producer send or per consumer poll.") var batch = 1_000
  @Option(help: "Extra librdkafka properties, key=value, repeatable.") var property: [String] = []

  func run() async throws {
    var logger = Logger(label: "sagad-bench")
    logger.logLevel = .warning
    let overrides = Dictionary(
      property.compactMap { item -> (String, String)? in
        guard let eq = item.firstIndex(of: "=") else { return nil }
        return (String(item[..<eq]), String(item[item.index(after: eq)...]))
      }, uniquingKeysWith: { $1 })
    let result: [String: Double]
    switch mode {
    case .produce: result = try await produce(logger: logger, overrides: overrides)
    case .consume: result = try await consume(logger: logger, overrides: overrides)
    }
    let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
  }

  private func produce(logger: Logger, overrides: [String: String]) async throws -> [String: Double] {
    var config = KafkaProducerConfiguration(bootstrapServers: bootstrap)
    config.clientId = "sagad-bench"
    config.overrides = overrides
    let producer = try KafkaProducer(configuration: config, logger: logger)
    // Connect and learn the partition leaders before the clock starts, as kcat's
    // own start-up is outside its message loop too.
    _ = try await producer.send(KafkaProducerMessage(topic: topic + ".warm-up", key: "warm-up", value: "warm-up"))
      .report
    let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
    let clock = ContinuousClock()
    let start = clock.now
    let (total, runLength, topic) = (messages, batch, topic)
    var tickets: [KafkaDeliveryTicket] = []
    tickets.reserveCapacity(total)
    var next = 0
    while next < total {
      // Batches, as the outbox relay hands them over: one lock round per run.
      let run = (next..<min(next + runLength, total)).map { index in
        KafkaProducerMessage(topic: topic, key: Array(String(index).utf8), value: payload)
      }
      tickets += try await producer.send(run)
      next += run.count
    }
    let enqueued = clock.now - start
    var persisted = 0
    for ticket in tickets where await ticket.report.isPersisted { persisted += 1 }
    let elapsed = clock.now - start
    await producer.close()
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let enqueueSeconds = Double(enqueued.components.seconds) + Double(enqueued.components.attoseconds) / 1e18
    return [
      "messages": Double(persisted), "seconds": seconds, "messagesPerSecond": Double(persisted) / seconds,
      "enqueueSeconds": enqueueSeconds,
    ]
  }

  private func consume(logger: Logger, overrides: [String: String]) async throws -> [String: Double] {
    var config = KafkaConsumerConfiguration(bootstrapServers: bootstrap, groupId: group)
    config.clientId = "sagad-bench"
    config.overrides = overrides
    let consumer = try KafkaConsumer(configuration: config, logger: logger)
    if let assignPartitions {
      try await consumer.assign(
        (0..<assignPartitions).map {
          TopicPartitionOffset(topic: topic, partition: $0, offset: TopicPartitionOffset.beginning)
        })
    } else {
      try await consumer.subscribe(topics: [topic])
    }
    let clock = ContinuousClock()
    let start = clock.now
    var firstAt: ContinuousClock.Instant?
    var received = 0
    let deadline = start.advanced(by: .seconds(120))
    while received < messages && clock.now < deadline {
      let batch = try await consumer.poll(maxMessages: batch, timeout: .milliseconds(100))
      if firstAt == nil && !batch.isEmpty { firstAt = clock.now }
      received += batch.count
    }
    let end = clock.now
    await consumer.close()
    func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
    let total = seconds(end - start)
    let afterFirst = seconds(end - (firstAt ?? start))
    return [
      "messages": Double(received), "seconds": total, "messagesPerSecond": Double(received) / total,
      "joinSeconds": seconds((firstAt ?? end) - start),
      "messagesPerSecondAfterJoin": Double(received) / max(afterFirst, 1e-9),
    ]
  }
}
