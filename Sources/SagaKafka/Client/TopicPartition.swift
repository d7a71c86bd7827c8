/// A partition of a topic.
public struct TopicPartition: Sendable, Hashable, Comparable, CustomStringConvertible {
  public var topic: String
  public var partition: Int32

  public init(topic: String, partition: Int32) {
    self.topic = topic
    self.partition = partition
  }

  public var description: String { "\(topic)[\(partition)]" }

  public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
    (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
  }
}

/// A position in a partition: `offset` is the next record to read (Kafka's convention
/// for committed offsets, i.e. last processed + 1).
public struct TopicPartitionOffset: Sendable, Hashable, CustomStringConvertible {
  public var topicPartition: TopicPartition
  public var offset: Int64

  public init(topic: String, partition: Int32, offset: Int64) {
    self.topicPartition = TopicPartition(topic: topic, partition: partition)
    self.offset = offset
  }

  /// librdkafka's logical offsets: the partition's first and next-to-be-written record.
  public static let beginning: Int64 = -2
  public static let end: Int64 = -1

  public var topic: String { topicPartition.topic }
  public var partition: Int32 { topicPartition.partition }
  public var description: String { "\(topicPartition)@\(offset)" }
}
