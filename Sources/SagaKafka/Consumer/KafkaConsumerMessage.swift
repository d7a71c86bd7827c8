public import SagaCore

/// A record read by `KafkaConsumer`, copied out of librdkafka's buffers.
public struct KafkaConsumerMessage: Sendable, Hashable {
  /// How the broker stamped the record's time.
  public enum TimestampType: Sendable, Hashable {
    case createTime
    case logAppendTime
  }

  public var topic: String
  public var partition: Int32
  public var offset: Int64
  public var key: [UInt8]?
  public var value: [UInt8]?
  public var headers: [RecordHeader]
  /// Milliseconds since the Unix epoch, if the record carries a timestamp.
  public var timestampMilliseconds: Int64?
  public var timestampType: TimestampType?

  public init(
    topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?,
    headers: [RecordHeader], timestampMilliseconds: Int64?, timestampType: TimestampType?
  ) {
    self.topic = topic
    self.partition = partition
    self.offset = offset
    self.key = key
    self.value = value
    self.headers = headers
    self.timestampMilliseconds = timestampMilliseconds
    self.timestampType = timestampType
  }

  public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }

  /// The position to commit once this record is processed (its offset + 1).
  public var nextPosition: TopicPartitionOffset {
    TopicPartitionOffset(topic: topic, partition: partition, offset: offset + 1)
  }

  public var keyString: String? { key.flatMap { String(validating: $0, as: UTF8.self) } }
  public var valueString: String? { value.flatMap { String(validating: $0, as: UTF8.self) } }
}
