/// What an operator tunes on a consumer. Offsets are never stored or committed behind
/// the application's back: `enable.auto.commit` and `enable.auto.offset.store` are off.
public struct KafkaConsumerConfiguration: Sendable, Equatable {
  /// Where a group with no committed offset starts reading.
  public enum AutoOffsetReset: String, Sendable {
    case earliest
    case latest
    case error
  }

  public var bootstrapServers: String
  public var groupId: String
  public var clientId: String = "sagad"
  public var autoOffsetReset: AutoOffsetReset = .earliest
  /// `session.timeout.ms`: how long the group waits for a silent member.
  public var sessionTimeout: Duration = .seconds(10)
  /// `heartbeat.interval.ms`.
  public var heartbeatInterval: Duration = .seconds(1)
  /// `max.poll.interval.ms`: a member that does not poll for this long leaves the group.
  public var maxPollInterval: Duration = .seconds(300)
  /// `statistics.interval.ms`; nil disables statistics (and so lag figures).
  public var statisticsInterval: Duration?
  /// Any other librdkafka property; wins over the fields above.
  public var overrides: [String: String] = [:]

  public init(bootstrapServers: String, groupId: String) {
    self.bootstrapServers = bootstrapServers
    self.groupId = groupId
  }

  var kafkaConfiguration: KafkaConfiguration {
    var config = KafkaConfiguration([
      "bootstrap.servers": bootstrapServers,
      "group.id": groupId,
      "client.id": clientId,
      "enable.auto.commit": "false",
      "enable.auto.offset.store": "false",
      "auto.offset.reset": autoOffsetReset.rawValue,
      "session.timeout.ms": String(sessionTimeout.milliseconds),
      "heartbeat.interval.ms": String(heartbeatInterval.milliseconds),
      "max.poll.interval.ms": String(maxPollInterval.milliseconds),
    ])
    if let statisticsInterval {
      config["statistics.interval.ms"] = String(statisticsInterval.milliseconds)
    }
    return config.merging(overrides)
  }
}
