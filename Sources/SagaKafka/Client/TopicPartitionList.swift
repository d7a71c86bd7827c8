import CRdKafka

/// Conversions between our partition types and librdkafka's
/// `rd_kafka_topic_partition_list_t`, which never leaves this module.
enum TopicPartitionList {
  /// A new list the caller must destroy with `rd_kafka_topic_partition_list_destroy`.
  static func make(_ positions: [TopicPartitionOffset]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
    let list = rd_kafka_topic_partition_list_new(Int32(max(positions.count, 1)))!
    for position in positions {
      let element = rd_kafka_topic_partition_list_add(list, position.topic, position.partition)!
      element.pointee.offset = position.offset
    }
    return list
  }

  /// A list of partitions with librdkafka's "invalid" (= unspecified) offset.
  static func make(_ partitions: [TopicPartition]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
    make(partitions.map { TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: -1001) })
  }

  /// Reads every element: its position and per-element error, if any.
  static func read(
    _ list: UnsafePointer<rd_kafka_topic_partition_list_t>?
  ) -> [(position: TopicPartitionOffset, error: rd_kafka_resp_err_t)] {
    guard let list, let elems = list.pointee.elems else { return [] }
    return (0..<Int(list.pointee.cnt)).map { index in
      let element = elems[index]
      let topic = String(cString: element.topic)
      return (TopicPartitionOffset(topic: topic, partition: element.partition, offset: element.offset), element.err)
    }
  }

  static func partitions(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?) -> [TopicPartition] {
    read(list).map(\.position.topicPartition)
  }
}
