import Foundation
import SagaCore
import SagaKafka
import SagaTestSupport

/// Resets consumer groups to the earliest offset, as an operator's
/// `kafka-consumer-groups --reset-offsets --to-earliest` would (kcat cannot commit for a
/// group): a consumer joins the group, and once it holds every partition of the group's
/// topics it commits offset 0 on each. The group's sagad must be stopped, so the consumer
/// is its only member; the coordinator (the dev broker's mock) refuses commits from
/// non-members, so joining is the only way in.
enum ConsumerGroupReset {
  /// The reset consumers' session timeout (see the duplicates scenario for why it matters).
  static let sessionTimeout = Duration.seconds(6)

  /// Commits offset 0 on every partition of `group`'s topics; returns the offsets the
  /// group had committed before (negative: none).
  @discardableResult
  static func toEarliest(
    _ group: SagaConsumerGroup, bootstrap: String, partitions: Int32 = 3
  ) async throws -> [TopicPartitionOffset] {
    var configuration = KafkaConsumerConfiguration(bootstrapServers: bootstrap, groupId: group.rawValue)
    configuration.clientId = "reliability-reset"
    configuration.sessionTimeout = sessionTimeout
    let consumer = try KafkaConsumer(configuration: configuration, logger: quietLogger)
    let all = group.topics.flatMap { topic in (0..<partitions).map { TopicPartition(topic: topic, partition: $0) } }
    do {
      let before = try await consumer.committed(all)
      try await consumer.subscribe(topics: group.topics)
      // Rebalances are served inside poll; the records it returns are ignored.
      try await eventually("the reset consumer of \(group.rawValue) to hold every partition", timeout: .seconds(60)) {
        _ = try await consumer.poll(maxMessages: 100, timeout: .milliseconds(100))
        return consumer.currentAssignment == Set(all)
      }
      // An explicit commit: stored offsets (`store` + `commit()`) never move backwards.
      let zero = all.map { TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: 0) }
      try await consumer.commit(zero)
      let after = try await consumer.committed(all)
      guard after.allSatisfy({ $0.offset <= 0 }) else {
        throw TestFailure("offsets of \(group.rawValue) not reset: \(after)")
      }
      await consumer.close()
      return before
    } catch {
      await consumer.close()
      throw error
    }
  }

  /// `toEarliest` for every group at once (each join waits out the broker's rebalance
  /// delay); returns how many partitions had committed offsets past 0 before.
  static func allToEarliest(bootstrap: String) async throws -> Int {
    try await withThrowingTaskGroup(of: Int.self) { tasks in
      for group in SagaConsumerGroup.allCases {
        tasks.addTask { try await toEarliest(group, bootstrap: bootstrap).filter { $0.offset > 0 }.count }
      }
      return try await tasks.reduce(0, +)
    }
  }
}
