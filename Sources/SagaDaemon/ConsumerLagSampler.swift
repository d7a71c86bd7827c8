import Logging
import SagaKafka
import SagaRuntime
import Synchronization

/// `kafka_consumer_lag{group,topic,partition}` for the partitions assigned to this
/// process's consumers (consume workers and DLT workers), sampled every
/// `kafka.statistics_interval` off the scrape path.
///
/// The committed offset comes from librdkafka's statistics (the broker's answer when the
/// statistics do not know it yet, then the low watermark: nothing consumed). The high
/// watermark is asked from the broker: librdkafka learns it only from its own fetches, so
/// in the statistics it freezes while a consumer is paused or wedged, exactly when the lag
/// matters. If the broker does not answer, the statistics' own lag stands in.
final class ConsumerLagSampler: Sendable {
  struct Key: Hashable, Sendable {
    var group: String
    var topic: String
    var partition: Int32
  }

  /// One consumer to sample: its group, and how to read its assignment and statistics.
  struct Source: Sendable {
    var name: String
    var group: String
    var assignment: @Sendable () -> Set<TopicPartition>
    var statistics: @Sendable () -> KafkaStatistics?
  }

  private let sources: [Source]
  private let admin: KafkaAdmin
  private let interval: Duration
  private let logger: Logger
  private let latest = Mutex<[Key: Int64]>([:])

  init(
    workers: [ConsumeWorker], deadLetterWorkers: [DeadLetterWorker], admin: KafkaAdmin, interval: Duration,
    logger: Logger
  ) {
    // A DLT worker keeps librdkafka's statistics to itself: its offsets come from the broker.
    self.sources =
      workers.map { worker in
        Source(
          name: worker.name, group: worker.groupId, assignment: { worker.assignment },
          statistics: { worker.consumerStatistics })
      }
      + deadLetterWorkers.map { worker in
        Source(
          name: worker.name, group: worker.group.rawValue, assignment: { worker.assignment }, statistics: { nil })
      }
    self.admin = admin
    self.interval = interval
    self.logger = logger
  }

  /// The last sample: messages behind per partition.
  var current: [Key: Int64] { latest.withLock { $0 } }

  /// Samples until cancelled, then closes the admin client.
  func run() async {
    while !Task.isCancelled {
      await sample()
      try? await Task.sleep(for: interval)
    }
    await admin.close()
  }

  func sample() async {
    var lags: [Key: Int64] = [:]
    for source in sources {
      let statistics = source.statistics()
      let known = Dictionary(
        (statistics?.partitions ?? []).map { (TopicPartition(topic: $0.topic, partition: $0.partition), $0) },
        uniquingKeysWith: { first, _ in first })
      // Only the partitions assigned here: another sagad of the group reports the others.
      let assigned = source.assignment().sorted()
      guard !assigned.isEmpty else { continue }
      var committed: [TopicPartition: Int64] = [:]
      for partition in assigned { committed[partition] = known[partition]?.committedOffset }
      do {
        if assigned.contains(where: { committed[$0] == nil }) {
          let topics = Array(Set(assigned.map(\.topic))).sorted()
          for offset in try await admin.committedOffsets(group: source.group, topics: topics, timeout: .seconds(2))
          where committed[offset.topicPartition] == nil {
            committed[offset.topicPartition] = offset.offset
          }
        }
        for partition in assigned {
          let marks = try await admin.watermarks(
            topic: partition.topic, partition: partition.partition, timeout: .seconds(2))
          let position = committed[partition] ?? marks.low
          lags[Key(group: source.group, topic: partition.topic, partition: partition.partition)] = max(
            0, marks.high - position)
        }
      } catch {
        logger.debug(
          "metrics: broker watermarks unavailable, using librdkafka's lag",
          metadata: ["worker": "\(source.name)", "error": "\(error)"])
        for partition in assigned {
          guard let stats = known[partition] else { continue }
          let behind =
            stats.consumerLag
            ?? stats.highWatermark.flatMap { high in stats.committedOffset.map { max(0, high - $0) } }
          if let behind {
            lags[Key(group: source.group, topic: partition.topic, partition: partition.partition)] = behind
          }
        }
      }
    }
    latest.withLock { $0 = lags }
  }
}
