/// A topic `KafkaAdmin.createTopics` should make sure exists.
public struct NewTopic: Sendable, Hashable {
  public var name: String
  public var partitions: Int32
  public var replicationFactor: Int32
  /// Topic-level configuration, e.g. `retention.ms`, `cleanup.policy`.
  public var config: [String: String]

  public init(name: String, partitions: Int32, replicationFactor: Int32 = 1, config: [String: String] = [:]) {
    self.name = name
    self.partitions = partitions
    self.replicationFactor = replicationFactor
    self.config = config
  }
}
