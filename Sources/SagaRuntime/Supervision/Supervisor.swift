public import CoreMetrics
public import Logging
public import SagaCore
public import ServiceLifecycle

/// Runs the node's long-running tasks (Docs/design.md, "Supervision") and keeps them running: a task
/// that throws is restarted after an exponential back-off with jitter; one that fails
/// more than `maxRestarts` times within `window` is marked `failed` and left alone, while
/// the others keep serving, until an operator restarts it. Operators also pause and
/// resume consume workers (`PausableService`).
///
/// Its children run as `services` of the daemon's one service group, which stops them one
/// at a time in reverse order of `children`, each after the previous one finished: list
/// the consume workers after the relays so they stop first and the relays drain what
/// they committed. `Supervisor` itself keeps the tasks' states and the operator's levers.
public final class Supervisor: Sendable {
  public let settings: SupervisorSettings
  private let tasks: [SupervisedTask]
  private let logger: Logger

  /// Counted by each task at every start after its first (Docs/metrics.md).
  public static let restartsMetric = "sagad_worker_restarts_total"

  /// - Parameters:
  ///   - random: the jitter's source of values in [0, 1).
  ///   - clock: what back-offs wait on and failures are timed by (tests advance a manual one).
  ///   - metrics: where the tasks count their restarts; nil: the process's bootstrapped factory.
  public init(
    children: [SupervisedChild], settings: SupervisorSettings = SupervisorSettings(),
    random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, clock: SagaClock = .continuous,
    metrics: (any MetricsFactory)? = nil, logger: Logger
  ) {
    var seen = Set<String>()
    for child in children { precondition(seen.insert(child.name).inserted, "duplicate task name \(child.name)") }
    self.settings = settings
    self.tasks = children.map {
      SupervisedTask(
        child: $0, settings: settings, random: random, clock: clock, metrics: metrics ?? MetricsSystem.factory,
        logger: logger)
    }
    self.logger = logger
  }

  /// Every task's state, in start order.
  public func snapshots() -> [SupervisedTaskSnapshot] { tasks.map(\.snapshot) }

  public func snapshot(_ name: String) -> SupervisedTaskSnapshot? { tasks.first { $0.child.name == name }?.snapshot }

  /// Starts `name` again now, whatever its state, with its failure count reset.
  /// - Throws: `invalid-value` for an unknown name.
  public func restart(_ name: String) throws(SagaError) {
    try task(name).requestRestart()
  }

  /// Pauses a consume worker: it stays in its group and keeps polling, fetching nothing.
  /// - Throws: `invalid-value` for an unknown name or a task that cannot pause.
  public func pause(_ name: String) async throws(SagaError) {
    try await pausable(name, pause: true)
  }

  public func resume(_ name: String) async throws(SagaError) {
    try await pausable(name, pause: false)
  }

  /// One service per child, in the order of `children`, each running its child in the
  /// restart loop: a daemon puts these into its own service group, which then stops them
  /// in reverse order, each after the previous one finished (the workers before the relays).
  public var services: [ServiceGroupConfiguration.ServiceConfiguration] {
    tasks.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0, serviceName: $0.child.name) }
  }

  private func task(_ name: String) throws(SagaError) -> SupervisedTask {
    guard let task = tasks.first(where: { $0.child.name == name }) else {
      throw SagaError(
        .invalidValue, "no task named '\(name)'; tasks: \(tasks.map(\.child.name).joined(separator: ", "))",
        failureClass: .permanent)
    }
    return task
  }

  private func pausable(_ name: String, pause: Bool) async throws(SagaError) {
    let task = try task(name)
    guard let service = task.child.service as? any PausableService else {
      throw SagaError(
        .invalidValue, "\(name) is a \(task.child.kind), not a consume worker: only workers pause",
        failureClass: .permanent)
    }
    do {
      if pause { try await service.pause() } else { try await service.resume() }
    } catch {
      throw SagaError(.internalError, "cannot \(pause ? "pause" : "resume") \(name): \(error)")
    }
    logger.notice(pause ? "paused" : "resumed", metadata: ["task": "\(name)"])
  }
}
