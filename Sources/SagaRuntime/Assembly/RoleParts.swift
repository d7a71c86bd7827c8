public import SagaCore

/// What one service's role adds to a node, as its assembly (`PaymentsRole`, `PointsRole`)
/// built it with a `RuntimeFactory`: the runtime starts and stops these in a fixed order
/// and knows nothing else about the service.
public struct RoleParts: Sendable {
  /// Outbox relays: started first and stopped last, so they drain what the workers committed.
  public var relays: [OutboxRelay]
  public var workers: [ConsumeWorker]
  /// The role's other long-running tasks (Payments' stuck-saga sweeper), started last.
  public var tasks: [SupervisedChild]
  /// The DLT groups whose dead letters this role keeps; the node runs one worker for each.
  public var deadLetterGroups: [SagaConsumerGroup]

  public init(
    relays: [OutboxRelay] = [], workers: [ConsumeWorker] = [], tasks: [SupervisedChild] = [],
    deadLetterGroups: [SagaConsumerGroup] = []
  ) {
    self.relays = relays
    self.workers = workers
    self.tasks = tasks
    self.deadLetterGroups = deadLetterGroups
  }

  /// The parts of several roles, each kind in the roles' order.
  public static func + (lhs: RoleParts, rhs: RoleParts) -> RoleParts {
    RoleParts(
      relays: lhs.relays + rhs.relays, workers: lhs.workers + rhs.workers, tasks: lhs.tasks + rhs.tasks,
      deadLetterGroups: lhs.deadLetterGroups + rhs.deadLetterGroups)
  }
}
