import Logging
import SagaKafka
import SagaRuntime
import Synchronization

/// Samples the lag of this process's consumers every `kafka.statistics_interval`, off the
/// scrape and request paths, for both readers: the metrics collector's
/// `kafka_consumer_lag{group,topic,partition}` (the last sample of the partitions assigned
/// here: consume workers and DLT workers) and `lag` (the last `window` samples of every
/// partition a consume worker owns, so that it can judge a trend rather than one number).
///
/// The committed offset and high watermark come from the broker: librdkafka learns the
/// high watermark only from its own fetches, and a wedged consumer stops polling, so its
/// statistics stand still exactly when the lag grows. When the broker does not answer,
/// librdkafka's statistics stand in.
final class ConsumerLagSampler: Sendable {
  struct Key: Sendable, Hashable, Comparable {
    var group: String
    var topic: String
    var partition: Int32
    static func < (a: Key, b: Key) -> Bool {
      (a.group, a.topic, a.partition) < (b.group, b.topic, b.partition)
    }
  }

  /// One row of `lag`.
  struct Row: Sendable, Hashable {
    var key: Key
    var worker: String
    var latest: LagEvaluation.Sample
    var status: LagEvaluation.Status
    var samples: Int
  }

  /// One consumer to sample: its group, and how to read its assignment and statistics.
  struct Source: Sendable {
    var name: String
    var group: String
    var assignment: @Sendable () -> Set<TopicPartition>
    var statistics: @Sendable () -> KafkaStatistics?
    /// Whether `lag` judges its partitions (consume workers); DLT workers are only metered.
    var judged: Bool
  }

  private struct Series {
    var worker: String
    var samples: [LagEvaluation.Sample] = []
    /// librdkafka's timestamp of the statistics the last sample came from.
    var lastTimestamp: Int64 = -1
  }

  let window: Int
  let interval: Duration
  private let sources: [Source]
  private let admin: KafkaAdmin?
  private let logger: Logger
  private let latest = Mutex<[Key: Int64]>([:])
  private let series = Mutex<[Key: Series]>([:])

  init(
    workers: [ConsumeWorker], deadLetterWorkers: [DeadLetterWorker] = [], window: Int, interval: Duration?,
    admin: KafkaAdmin?, logger: Logger
  ) {
    // A DLT worker keeps librdkafka's statistics to itself: its offsets come from the broker.
    self.sources =
      workers.map { worker in
        Source(
          name: worker.name, group: worker.groupId, assignment: { worker.assignment },
          statistics: { worker.consumerStatistics }, judged: true)
      }
      + deadLetterWorkers.map { worker in
        Source(
          name: worker.name, group: worker.group.rawValue, assignment: { worker.assignment }, statistics: { nil },
          judged: false)
      }
    self.window = window
    self.interval = interval ?? .seconds(5)
    self.admin = admin
    self.logger = logger
  }

  /// The last sample of the partitions assigned here: messages behind per partition.
  var current: [Key: Int64] { latest.withLock { $0 } }

  /// Samples until cancelled, then closes the admin client.
  func run() async {
    while !Task.isCancelled {
      await sample()
      try? await Task.sleep(for: interval)
    }
    await admin?.close()
  }

  /// Takes one sample of every partition a consumer owns.
  func sample() async {
    var lags: [Key: Int64] = [:]
    for source in sources {
      let statistics = source.statistics()
      let known = Dictionary(
        (statistics?.partitions ?? []).map { (TopicPartition(topic: $0.topic, partition: $0.partition), $0) },
        uniquingKeysWith: { first, _ in first })
      let assigned = source.assignment()
      // The consumer's own partitions: assigned to it, or with an offset of its group.
      let owned = assigned.union(
        known.filter { $0.value.committedOffset != nil || $0.value.consumerLag != nil }.keys)
      guard !owned.isEmpty else { continue }
      var samples: [TopicPartition: LagEvaluation.Sample]
      var timestamp: Int64?
      if let broker = await brokerSamples(source, partitions: owned) {
        samples = broker
      } else {
        samples = [:]
        if let statistics {
          for partition in owned {
            let stats = known[partition]
            samples[partition] = LagEvaluation.Sample(
              lag: stats?.consumerLag, committed: stats?.committedOffset, highWatermark: stats?.highWatermark)
          }
          timestamp = statistics.timestampMicroseconds
        }
      }
      // The metric: only the partitions assigned here, another sagad of the group reports the others.
      for partition in assigned {
        guard let sample = samples[partition] else { continue }
        let behind =
          sample.lag ?? sample.highWatermark.flatMap { high in sample.committed.map { max(0, high - $0) } }
        if let behind { lags[Key(group: source.group, partition)] = behind }
      }
      if source.judged { record(source, samples, timestamp: timestamp) }
    }
    latest.withLock { $0 = lags }
  }

  /// The broker's view of `partitions`, nil without an admin client or an answer.
  private func brokerSamples(_ source: Source, partitions: Set<TopicPartition>) async -> [TopicPartition:
    LagEvaluation.Sample]?
  {
    guard let admin else { return nil }
    do {
      let topics = Array(Set(partitions.map(\.topic))).sorted()
      var committed: [TopicPartition: Int64] = [:]
      for offset in try await admin.committedOffsets(group: source.group, topics: topics, timeout: .seconds(2)) {
        committed[offset.topicPartition] = offset.offset
      }
      var samples: [TopicPartition: LagEvaluation.Sample] = [:]
      for partition in partitions {
        let marks = try await admin.watermarks(
          topic: partition.topic, partition: partition.partition, timeout: .seconds(2))
        // Nothing committed yet: the group starts from the beginning (auto.offset.reset).
        let position = committed[partition] ?? marks.low
        samples[partition] = LagEvaluation.Sample(
          lag: max(0, marks.high - position), committed: committed[partition], highWatermark: marks.high)
      }
      return samples
    } catch {
      logger.debug(
        "lag: broker offsets unavailable, using librdkafka's statistics",
        metadata: ["worker": "\(source.name)", "error": "\(error)"])
      return nil
    }
  }

  /// Appends one sample per partition to its window; `timestamp` (librdkafka's) skips a
  /// snapshot already recorded, which would look like a lag that stood still.
  private func record(_ source: Source, _ samples: [TopicPartition: LagEvaluation.Sample], timestamp: Int64?) {
    series.withLock { series in
      for (partition, sample) in samples {
        let key = Key(group: source.group, partition)
        var entry = series[key] ?? Series(worker: source.name)
        if let timestamp {
          guard entry.lastTimestamp != timestamp else { continue }
          entry.lastTimestamp = timestamp
        }
        entry.samples.append(sample)
        if entry.samples.count > window { entry.samples.removeFirst(entry.samples.count - window) }
        series[key] = entry
      }
    }
  }

  /// Every partition `lag` judges, in group/topic/partition order.
  func rows() -> [Row] {
    series.withLock { series in
      series.sorted { $0.key < $1.key }.compactMap { key, entry in
        guard let latest = entry.samples.last else { return nil }
        return Row(
          key: key, worker: entry.worker, latest: latest,
          status: LagEvaluation.status(of: entry.samples, window: window), samples: entry.samples.count)
      }
    }
  }
}

extension ConsumerLagSampler.Key {
  fileprivate init(group: String, _ partition: TopicPartition) {
    self.init(group: group, topic: partition.topic, partition: partition.partition)
  }
}
