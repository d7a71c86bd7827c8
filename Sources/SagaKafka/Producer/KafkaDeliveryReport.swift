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
  /// librdkafka refused the message when it was queued (it never left the process), as
  /// opposed to a failed delivery.
  public var refusedAtEnqueue: Bool

  public init(
    status: Status, topic: String, partition: Int32, offset: Int64?, error: KafkaError?,
    refusedAtEnqueue: Bool = false
  ) {
    self.status = status
    self.topic = topic
    self.partition = partition
    self.offset = offset
    self.error = error
    self.refusedAtEnqueue = refusedAtEnqueue
  }

  public var isPersisted: Bool { status == .persisted && error == nil }

  /// The message as it is can never be sent, however often it is tried: librdkafka refused
  /// it at enqueue for what it is (larger than `message.max.bytes`, an invalid topic), not
  /// for the state of the cluster. Only a refusal at enqueue is judged: a broker's error for
  /// a delivery covers the whole batch the message travelled in, its innocent neighbours too.
  public var isUnsendable: Bool {
    guard refusedAtEnqueue, let error else { return false }
    return KafkaError.unsendableCodes.contains(error.code)
  }
}
