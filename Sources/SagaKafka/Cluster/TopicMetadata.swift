/// A topic as the cluster's metadata describes it.
public struct TopicMetadata: Sendable, Hashable {
  /// One partition: its leader and replica brokers.
  public struct Partition: Sendable, Hashable {
    public var id: Int32
    /// The leader broker's id, or -1 while the partition has no leader.
    public var leader: Int32
    public var replicas: [Int32]
    public var inSyncReplicas: [Int32]
    /// The broker's per-partition error, e.g. `leaderNotAvailable`.
    public var error: KafkaError.Code?

    public init(
      id: Int32, leader: Int32, replicas: [Int32], inSyncReplicas: [Int32], error: KafkaError.Code? = nil
    ) {
      self.id = id
      self.leader = leader
      self.replicas = replicas
      self.inSyncReplicas = inSyncReplicas
      self.error = error
    }
  }

  public var name: String
  /// Sorted by partition id.
  public var partitions: [Partition]
  /// The broker's topic-level error, e.g. `unknownTopicOrPartition`.
  public var error: KafkaError.Code?

  public init(name: String, partitions: [Partition], error: KafkaError.Code? = nil) {
    self.name = name
    self.partitions = partitions
    self.error = error
  }
}
