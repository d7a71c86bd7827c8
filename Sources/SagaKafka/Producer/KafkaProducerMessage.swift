public import SagaCore

/// A record to produce. `partition` nil lets librdkafka's partitioner choose by key,
/// so one saga's events (keyed by payment id) stay ordered.
public struct KafkaProducerMessage: Sendable, Hashable {
  public var topic: String
  public var partition: Int32?
  public var key: [UInt8]?
  public var value: [UInt8]?
  public var headers: [RecordHeader]

  public init(
    topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?,
    headers: [RecordHeader] = []
  ) {
    self.topic = topic
    self.partition = partition
    self.key = key
    self.value = value
    self.headers = headers
  }

  public init(
    topic: String, partition: Int32? = nil, key: String?, value: String?,
    headers: [RecordHeader] = []
  ) {
    self.init(
      topic: topic, partition: partition, key: key.map { Array($0.utf8) },
      value: value.map { Array($0.utf8) }, headers: headers)
  }
}
