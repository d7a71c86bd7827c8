/// The outcome librdkafka reported for one produced message.
public struct KafkaDeliveryReport: Sendable, Hashable {
  /// librdkafka's persistence status (`rd_kafka_msg_status_t`). Only `persisted`
  /// means the broker acknowledged the write with the configured `acks`.
  public enum Status: Sendable, Hashable {
    /// Written and acknowledged: safe to mark an outbox row sent.
    case persisted
    /// Sent but not acknowledged (timeout after transmission): may or may not be in the log.
    case possiblyPersisted
    /// Never reached the broker's log.
    case notPersisted
  }

  public var status: Status
  public var topic: String
  public var partition: Int32
  /// The record's offset when persisted.
  public var offset: Int64?
  /// Why the delivery failed, when it did.
  public var error: KafkaError?

  public init(status: Status, topic: String, partition: Int32, offset: Int64?, error: KafkaError?) {
    self.status = status
    self.topic = topic
    self.partition = partition
    self.offset = offset
    self.error = error
  }

  public var isPersisted: Bool { status == .persisted && error == nil }
}
