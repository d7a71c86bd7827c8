import Logging
import SagaCore
import SagaKafka
import SagaRuntime
import Synchronization

/// Samples consumer lag every `kafka.statistics_interval`, off the scrape and request paths,
/// for every watched group (this process's own groups and the partner groups that read what
/// its services produce; `WatchedConsumerGroup`) on every partition of their topics, whether
/// or not a consumer of the group is alive anywhere. Two readers: the metrics collector
/// (`kafka_consumer_lag`, `sagad_consumer_group_uncommitted_partitions`) and `lag`, which
/// judges the last `window` samples of a partition rather than one number.
///
/// Sources, in this order: the broker's committed offsets against the high watermarks (as
/// `kafka-consumer-groups` and Burrow measure), because librdkafka learns the high watermark
/// only from its own fetches and a wedged or dead consumer reports nothing; when the broker
/// does not answer, librdkafka's statistics of a consumer of the group in this process, for
/// the partitions it holds. A reading that no source refreshes is kept for three intervals,
/// so one slow answer does not make a series vanish (and reset an alert's `for`), then dropped.
final class ConsumerLagSampler: Sendable {
  struct Key: Sendable, Hashable, Comparable {
    var group: String
    var topic: String
    var partition: Int32
    static func < (a: Key, b: Key) -> Bool {
      (a.group, a.topic, a.partition) < (b.group, b.topic, b.partition)
    }
  }

  /// A group on a topic, the unit of `sagad_consumer_group_uncommitted_partitions`.
  struct GroupTopic: Sendable, Hashable {
    var group: String
    var topic: String
  }

  enum Source: String, Sendable {
    case broker
    case statistics
  }

  /// Whether a consumer of the group is alive in this process, and holds the partition.
  enum Presence: String, Sendable {
    case assigned
    /// A consumer of the group runs here, but the partition is assigned elsewhere (or not yet).
    case alive
    case none
  }

  /// One partition's figures from one source.
  struct Reading: Sendable, Hashable {
    var sample: LagEvaluation.Sample
    /// The broker holds no committed offset of the group for the partition: `sample.lag`
    /// counts from the log start, where the group's consumers begin (`auto.offset.reset`
    /// earliest, sagad's and the report's setting).
    var neverCommitted: Bool
    var source: Source
  }

  /// One row of `lag`.
  struct Row: Sendable, Hashable {
    var key: Key
    var relation: WatchedConsumerGroup.Relation
    var presence: Presence
    var reading: Reading
    /// Burrow-style over the window; `lag` shows `NO-OFFSET` instead while `neverCommitted`.
    var status: LagEvaluation.Status
    var samples: Int
  }

  /// What the scrape exports, as of the last sample.
  struct Snapshot: Sendable {
    var lags: [Key: Int64] = [:]
    /// Partitions without a committed offset, per group and topic the broker answered for.
    var uncommitted: [GroupTopic: Int] = [:]
  }

  /// A consumer of this process: its group, and how to read its assignment and statistics.
  struct LocalConsumer: Sendable {
    var name: String
    var group: String
    var assignment: @Sendable () -> Set<TopicPartition>
    var statistics: @Sendable () -> KafkaStatistics?
    /// Running or paused (a paused consumer stays in its group).
    var alive: @Sendable () -> Bool
  }

  private struct Entry {
    var reading: Reading
    var at: SagaClock.Instant
    var samples: [LagEvaluation.Sample] = []
    /// librdkafka's timestamp of the statistics the last sample came from.
    var lastTimestamp: Int64 = -1
  }

  /// Each admin call's limit: a broker that does not answer costs a sample a few seconds, never more.
  static let brokerTimeout: Duration = .seconds(2)

  let window: Int
  let interval: Duration
  let watched: [WatchedConsumerGroup]
  private let consumers: [LocalConsumer]
  private let admin: KafkaAdmin?
  private let logger: Logger
  private let entries = Mutex<[Key: Entry]>([:])
  /// What the sampling interval passes on, and readings are aged by.
  private let clock: SagaClock

  init(
    watched: [WatchedConsumerGroup], consumers: [LocalConsumer], window: Int, interval: Duration?,
    admin: KafkaAdmin?, clock: SagaClock = .continuous, logger: Logger
  ) {
    self.clock = clock
    self.watched = watched
    self.consumers = consumers
    self.window = window
    self.interval = interval ?? .seconds(5)
    self.admin = admin
    self.logger = logger
  }

  /// The node's watched groups (from its roles) and consumers (consume and DLT workers).
  convenience init(node: SagaNode, window: Int, admin: KafkaAdmin?, logger: Logger) {
    let services = Set(node.configuration.roles.compactMap { SagaService(rawValue: $0.rawValue) })
    let supervisor = node.supervisor
    @Sendable func alive(_ name: String) -> Bool {
      let state = supervisor.snapshot(name)?.state
      return state == .running || state == .paused
    }
    // A DLT worker keeps librdkafka's statistics to itself: its offsets come from the broker.
    let consumers =
      node.workers.map { worker in
        LocalConsumer(
          name: worker.name, group: worker.groupId, assignment: { worker.assignment },
          statistics: { worker.consumerStatistics }, alive: { alive(worker.name) })
      }
      + node.deadLetterWorkers.map { worker in
        LocalConsumer(
          name: worker.name, group: worker.group.rawValue, assignment: { worker.assignment }, statistics: { nil },
          alive: { alive(worker.name) })
      }
    self.init(
      watched: WatchedConsumerGroup.watched(by: services), consumers: consumers, window: window,
      interval: node.configuration.statisticsInterval, admin: admin, logger: logger)
  }

  /// The figures of the last sample, for the scrape.
  var current: Snapshot {
    entries.withLock { entries in
      var snapshot = Snapshot()
      for (key, entry) in entries {
        if let lag = entry.reading.sample.lag { snapshot.lags[key] = lag }
        guard entry.reading.source == .broker else { continue }
        snapshot.uncommitted[GroupTopic(group: key.group, topic: key.topic), default: 0] +=
          entry.reading.neverCommitted ? 1 : 0
      }
      return snapshot
    }
  }

  /// Samples until cancelled, then closes the admin client.
  func run() async {
    while !Task.isCancelled {
      await sample()
      try? await clock.sleep(for: interval)
    }
    await admin?.close()
  }

  /// Takes one sample of every watched partition.
  func sample() async {
    var (fresh, answered) = await brokerReadings()
    var timestamps: [Key: Int64] = [:]
    // The broker did not answer for these groups: the statistics of a consumer here stand in.
    for consumer in consumers where !answered.contains(consumer.group) {
      guard let statistics = consumer.statistics() else { continue }
      let assigned = consumer.assignment()
      for partition in statistics.partitions
      where assigned.contains(TopicPartition(topic: partition.topic, partition: partition.partition)) {
        let key = Key(group: consumer.group, topic: partition.topic, partition: partition.partition)
        let behind =
          partition.consumerLag
          ?? partition.highWatermark.flatMap { high in partition.committedOffset.map { max(0, high - $0) } }
        fresh[key] = Reading(
          sample: LagEvaluation.Sample(
            lag: behind, committed: partition.committedOffset, highWatermark: partition.highWatermark),
          neverCommitted: false, source: .statistics)
        timestamps[key] = statistics.timestampMicroseconds
      }
    }
    record(fresh, timestamps: timestamps, at: clock.now)
  }

  /// Every watched partition the broker answered for, and the groups it answered for.
  private func brokerReadings() async -> (readings: [Key: Reading], answered: Set<String>) {
    guard let admin else { return ([:], []) }
    let timeout = Self.brokerTimeout
    var readings: [Key: Reading] = [:]
    var answered: Set<String> = []
    let partitionsByTopic: [String: [TopicPartition]]
    let marks: [TopicPartition: PartitionWatermarks]
    do throws(KafkaError) {
      let topics = Set(watched.flatMap(\.topics))
      // Every partition from the metadata, not only those assigned to a consumer here.
      partitionsByTopic = Dictionary(
        uniqueKeysWithValues: try await admin.listTopics(timeout: timeout).filter { topics.contains($0.name) }.map {
          topic in (topic.name, topic.partitions.map { TopicPartition(topic: topic.name, partition: $0.id) })
        })
      marks = try await admin.watermarks(of: partitionsByTopic.values.flatMap { $0 }, timeout: timeout)
    } catch {
      logger.debug("lag: broker unavailable, using librdkafka's statistics", metadata: ["error": "\(error)"])
      return ([:], [])
    }
    for watch in watched {
      let group = watch.group.rawValue
      let partitions = watch.topics.flatMap { partitionsByTopic[$0] ?? [] }
      guard !partitions.isEmpty else { continue }
      var committed: [TopicPartition: Int64] = [:]
      do throws(KafkaError) {
        for offset in try await admin.committedOffsets(group: group, partitions: partitions, timeout: timeout) {
          committed[offset.topicPartition] = offset.offset
        }
      } catch {
        logger.debug(
          "lag: the broker did not give a group's offsets", metadata: ["group": "\(group)", "error": "\(error)"])
        // Stopped answering: the remaining groups would each wait for the timeout too.
        if error.code == .timedOut { break }
        continue
      }
      answered.insert(group)
      for partition in partitions {
        guard let mark = marks[partition] else { continue }
        readings[Key(group: group, partition)] = Self.reading(committed: committed[partition], marks: mark)
      }
    }
    return (readings, answered)
  }

  /// The broker's reading of a partition: a group that never committed starts at the log start.
  static func reading(committed: Int64?, marks: PartitionWatermarks) -> Reading {
    let position = committed ?? marks.low
    return Reading(
      sample: LagEvaluation.Sample(lag: max(0, marks.high - position), committed: committed, highWatermark: marks.high),
      neverCommitted: committed == nil, source: .broker)
  }

  /// Stores the fresh readings, appends them to their windows (`timestamps`, librdkafka's,
  /// skip a statistics snapshot already recorded, which would look like a lag that stood
  /// still), and drops readings no source refreshed for three intervals.
  private func record(_ fresh: [Key: Reading], timestamps: [Key: Int64], at now: SagaClock.Instant) {
    let expiry = interval * 3
    entries.withLock { entries in
      for (key, reading) in fresh {
        var entry = entries[key] ?? Entry(reading: reading, at: now)
        entry.reading = reading
        entry.at = now
        if let timestamp = timestamps[key] {
          guard entry.lastTimestamp != timestamp else {
            entries[key] = entry
            continue
          }
          entry.lastTimestamp = timestamp
        }
        entry.samples.append(reading.sample)
        if entry.samples.count > window { entry.samples.removeFirst(entry.samples.count - window) }
        entries[key] = entry
      }
      entries = entries.filter { now - $0.value.at <= expiry }
    }
  }

  /// Every watched partition with a reading, in group/topic/partition order.
  func rows() -> [Row] {
    let relations = Dictionary(
      watched.map { ($0.group.rawValue, $0.relation) }, uniquingKeysWith: { first, _ in first })
    // Read before the lock: the closures take locks of their own.
    var alive: Set<String> = []
    var assigned: [String: Set<TopicPartition>] = [:]
    for consumer in consumers where consumer.alive() {
      alive.insert(consumer.group)
      assigned[consumer.group, default: []].formUnion(consumer.assignment())
    }
    return entries.withLock { entries in
      entries.sorted { $0.key < $1.key }.map { key, entry in
        let presence: Presence =
          assigned[key.group]?.contains(TopicPartition(topic: key.topic, partition: key.partition)) == true
          ? .assigned : alive.contains(key.group) ? .alive : .none
        return Row(
          key: key, relation: relations[key.group] ?? .own, presence: presence, reading: entry.reading,
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
