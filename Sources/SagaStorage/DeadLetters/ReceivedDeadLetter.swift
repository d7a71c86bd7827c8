public import SagaCore

/// A record consumed from a `.DLT` topic, as the DLT worker hands it to the store: no
/// librdkafka type, so the store can be tested (and fed) without a broker.
public struct ReceivedDeadLetter: Sendable, Hashable {
  /// The `.DLT` topic and the record's position in it: the store's idempotency key.
  public var topic: String
  public var partition: Int32
  public var offset: Int64
  /// The DLT record's own timestamp (when it was dead-lettered), ms since the epoch.
  public var timestampMilliseconds: Int64?
  public var key: [UInt8]?
  public var value: [UInt8]?
  public var headers: [RecordHeader]

  public init(
    topic: String, partition: Int32, offset: Int64, timestampMilliseconds: Int64? = nil, key: [UInt8]?,
    value: [UInt8]?, headers: [RecordHeader]
  ) {
    self.topic = topic
    self.partition = partition
    self.offset = offset
    self.timestampMilliseconds = timestampMilliseconds
    self.key = key
    self.value = value
    self.headers = headers
  }

  /// `reservation-completed.DLT[0]@4`.
  public var coordinates: String { "\(topic)[\(partition)]@\(offset)" }
}
