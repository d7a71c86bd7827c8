import Foundation
import SagaKafka
import SagaRuntime
import Synchronization

/// Keeps the last `window` samples of every partition the consume workers own, so that
/// `lag` can judge a trend rather than one number. It samples every
/// `kafka.statistics_interval`.
///
/// With a `KafkaAdmin` the committed offset and high watermark come from the broker: a
/// wedged consumer stops polling, and so stops receiving librdkafka's statistics, whose
/// numbers would then stand still exactly when the lag grows. Without one (or when the
/// broker does not answer) librdkafka's statistics are used.
final class LagMonitor: Sendable {
  struct PartitionKey: Sendable, Hashable, Comparable {
    var group: String
    var topic: String
    var partition: Int32
    static func < (a: PartitionKey, b: PartitionKey) -> Bool {
      (a.group, a.topic, a.partition) < (b.group, b.topic, b.partition)
    }
  }

  /// One row of `lag`.
  struct Row: Sendable, Hashable {
    var key: PartitionKey
    var worker: String
    var latest: LagEvaluation.Sample
    var status: LagEvaluation.Status
    var samples: Int
  }

  private struct Series {
    var worker: String
    var samples: [LagEvaluation.Sample] = []
    /// librdkafka's timestamp of the statistics the last sample came from.
    var lastTimestamp: Int64 = -1
  }

  let window: Int
  let interval: Duration
  private let workers: [ConsumeWorker]
  private let admin: KafkaAdmin?
  private let series = Mutex<[PartitionKey: Series]>([:])

  init(workers: [ConsumeWorker], window: Int, interval: Duration?, admin: KafkaAdmin? = nil) {
    self.workers = workers
    self.window = window
    self.interval = interval ?? .seconds(5)
    self.admin = admin
  }

  /// Samples until cancelled.
  func run() async {
    while !Task.isCancelled {
      await sample()
      try? await Task.sleep(for: interval)
    }
  }

  /// Takes one sample of every partition a worker owns.
  func sample() async {
    for worker in workers {
      let statistics = worker.consumerStatistics
      let assignment = worker.assignment
      let known = Dictionary(
        (statistics?.partitions ?? []).map { (TopicPartition(topic: $0.topic, partition: $0.partition), $0) },
        uniquingKeysWith: { first, _ in first })
      // The worker's own partitions: assigned to it, or with an offset of its group.
      let owned = Set(assignment).union(
        known.filter { $0.value.committedOffset != nil || $0.value.consumerLag != nil }.keys)
      guard !owned.isEmpty else { continue }
      if let broker = await brokerSamples(group: worker.groupId, partitions: owned) {
        record(worker, broker, timestamp: nil)
        continue
      }
      guard let statistics else { continue }
      var samples: [TopicPartition: LagEvaluation.Sample] = [:]
      for partition in owned {
        let stats = known[partition]
        samples[partition] = LagEvaluation.Sample(
          lag: stats?.consumerLag, committed: stats?.committedOffset, highWatermark: stats?.highWatermark)
      }
      record(worker, samples, timestamp: statistics.timestampMicroseconds)
    }
  }

  /// The broker's view of `partitions`, nil without an admin client or an answer.
  private func brokerSamples(group: String, partitions: Set<TopicPartition>) async -> [TopicPartition:
    LagEvaluation.Sample]?
  {
    guard let admin else { return nil }
    do {
      let topics = Array(Set(partitions.map(\.topic))).sorted()
      var committed: [TopicPartition: Int64] = [:]
      for offset in try await admin.committedOffsets(group: group, topics: topics, timeout: .seconds(2))
      where offset.offset >= 0 {
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
      return nil
    }
  }

  /// Appends one sample per partition; `timestamp` (librdkafka's) skips a snapshot already
  /// recorded, which would look like a lag that stood still.
  private func record(
    _ worker: ConsumeWorker, _ samples: [TopicPartition: LagEvaluation.Sample], timestamp: Int64?
  ) {
    series.withLock { series in
      for (partition, sample) in samples {
        let key = PartitionKey(group: worker.groupId, topic: partition.topic, partition: partition.partition)
        var entry = series[key] ?? Series(worker: worker.name)
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

  /// Every partition seen, in group/topic/partition order.
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
