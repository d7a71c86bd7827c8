/// A consumer group whose lag a sagad reports, and the topics it is reported on. A process
/// watches its own groups (those its services join) and the partner groups: the other
/// service's groups that read what its own services produce. A partner's lag is the one
/// that matters when the partner is down, and then nothing of the partner can report it.
public struct WatchedConsumerGroup: Sendable, Hashable {
  public enum Relation: String, Sendable, Hashable, Codable {
    /// Joined by a service of this process.
    case own
    /// Joined by the other service, reading topics this process produces.
    case partner
  }

  public var group: SagaConsumerGroup
  public var topics: [String]
  public var relation: Relation

  public init(group: SagaConsumerGroup, topics: [String], relation: Relation) {
    self.group = group
    self.topics = topics
    self.relation = relation
  }

  /// What a process running `services` watches, in `SagaConsumerGroup` order, each group
  /// once: with both services every group is its own, so none is a partner.
  public static func watched(by services: Set<SagaService>) -> [WatchedConsumerGroup] {
    SagaConsumerGroup.allCases.compactMap { group in
      if services.contains(group.service) {
        return WatchedConsumerGroup(group: group, topics: group.topics, relation: .own)
      }
      // The partner's topics that one of `services` produces.
      let produced = EventType.allCases.filter { services.contains($0.producer) && $0.consumerGroup == group }
      guard !produced.isEmpty else { return nil }
      return WatchedConsumerGroup(group: group, topics: produced.map(\.topic.rawValue), relation: .partner)
    }
  }
}
