import Foundation

/// The parts of librdkafka's statistics JSON (`statistics.interval.ms`) that sagad
/// exports: per-partition consumer lag, committed offset and high watermark.
public struct KafkaStatistics: Sendable, Hashable {
  /// One partition as the client sees it.
  public struct Partition: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    /// High watermark minus committed offset; nil while librdkafka does not know it.
    public var consumerLag: Int64?
    public var committedOffset: Int64?
    public var storedOffset: Int64?
    public var highWatermark: Int64?
    public var lowWatermark: Int64?
    /// librdkafka's fetch state (`active`, `stopped`, `none`, …).
    public var fetchState: String?
  }

  /// librdkafka's client instance name.
  public var clientName: String
  /// Wall-clock time of the snapshot, microseconds since the epoch.
  public var timestampMicroseconds: Int64
  /// Messages waiting in the producer queue (`msg_cnt`).
  public var queuedMessages: Int64
  public var partitions: [Partition]

  /// Parses librdkafka's JSON; nil if it is not the expected shape.
  static func parse(_ json: Data) -> KafkaStatistics? {
    guard let raw = try? JSONDecoder().decode(RawStatistics.self, from: json) else { return nil }
    var partitions: [Partition] = []
    for (topicName, topic) in raw.topics ?? [:] {
      for (_, part) in topic.partitions ?? [:] where part.partition >= 0 {
        partitions.append(
          Partition(
            topic: topicName, partition: part.partition,
            consumerLag: known(part.consumer_lag), committedOffset: known(part.committed_offset),
            storedOffset: known(part.stored_offset), highWatermark: known(part.hi_offset),
            lowWatermark: known(part.lo_offset), fetchState: part.fetch_state))
      }
    }
    partitions.sort { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    return KafkaStatistics(
      clientName: raw.name ?? "", timestampMicroseconds: raw.time ?? 0, queuedMessages: raw.msg_cnt ?? 0,
      partitions: partitions)
  }

  /// librdkafka writes -1 (or -1001, "invalid offset") for values it does not know.
  private static func known(_ value: Int64?) -> Int64? {
    guard let value, value >= 0 else { return nil }
    return value
  }

  // Field names as librdkafka writes them (STATISTICS.md).
  // swift-format-ignore: AlwaysUseLowerCamelCase
  private struct RawStatistics: Decodable {
    var name: String?
    var time: Int64?
    var msg_cnt: Int64?
    var topics: [String: RawTopic]?
  }

  private struct RawTopic: Decodable {
    var partitions: [String: RawPartition]?
  }

  // swift-format-ignore: AlwaysUseLowerCamelCase
  private struct RawPartition: Decodable {
    var partition: Int32
    var consumer_lag: Int64?
    var committed_offset: Int64?
    var stored_offset: Int64?
    var hi_offset: Int64?
    var lo_offset: Int64?
    var fetch_state: String?
  }
}
