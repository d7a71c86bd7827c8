/// What an operator tunes on a producer. Defaults are the safe ones for an outbox relay:
/// idempotent, `acks=all`, bounded queue.
public struct KafkaProducerConfiguration: Sendable, Equatable {
  /// `host:port,…` of the bootstrap brokers.
  public var bootstrapServers: String
  public var clientId: String = "sagad"
  /// `enable.idempotence=true` and `acks=all`: no duplicates or reordering on retry.
  public var idempotent = true
  /// The most messages held without a delivery report; `send` suspends beyond it.
  public var maxInFlightMessages = 100_000
  /// `message.timeout.ms`: after this a queued message fails with `notPersisted`
  /// (or `possiblyPersisted` if it was on the wire). nil waits forever.
  public var deliveryTimeout: Duration? = .seconds(300)
  /// `linger.ms`: how long librdkafka waits to fill a batch. 1 ms rather than librdkafka's 5:
  /// the relay hands a whole round of rows at once, so the wait mostly delayed every event
  /// (p99 at 1,000 sagas/s ~8 ms lower, full speed no lower; Docs/benchmarks.md).
  public var linger: Duration = .milliseconds(1)
  /// `statistics.interval.ms`; nil disables statistics.
  public var statisticsInterval: Duration?
  /// Any other librdkafka property; wins over the fields above.
  public var overrides: [String: String] = [:]
  /// How long the producer's thread sleeps in `rd_kafka_poll` with nothing to report: a
  /// safety net, since a queued job wakes it at once (tests lengthen it to prove that).
  var idlePoll: Duration = .seconds(1)

  public init(bootstrapServers: String) {
    self.bootstrapServers = bootstrapServers
  }

  var kafkaConfiguration: KafkaConfiguration {
    var config = KafkaConfiguration([
      "bootstrap.servers": bootstrapServers,
      "client.id": clientId,
      // librdkafka's own queue must never refuse before our bound does. It counts a
      // message until its delivery report is freed, which is after our callback has
      // handed the slot on, and it frees a whole batch of reports at once: hence 2×.
      "queue.buffering.max.messages": String(min(maxInFlightMessages * 2 + 16, 10_000_000)),
      "linger.ms": String(linger.milliseconds),
      "message.timeout.ms": String(deliveryTimeout?.milliseconds ?? 0),
    ])
    if idempotent {
      config["enable.idempotence"] = "true"
      config["acks"] = "all"
    }
    if let statisticsInterval {
      config["statistics.interval.ms"] = String(statisticsInterval.milliseconds)
    }
    return config.merging(overrides)
  }
}

extension Duration {
  /// Whole milliseconds, rounded down, as librdkafka's `*.ms` properties expect.
  var milliseconds: Int64 {
    let (seconds, attoseconds) = components
    return seconds * 1000 + attoseconds / 1_000_000_000_000_000
  }
}
