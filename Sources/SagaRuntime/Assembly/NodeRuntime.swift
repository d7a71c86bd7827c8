import Logging
public import SagaCore
import SagaKafka
public import ServiceLifecycle

/// The generic half of a node, as `RuntimeFactory.node(_:)` built it from the roles'
/// parts: every relay, consume worker and DLT worker, the dead-letter operations, and the
/// `Supervisor` that keeps and restarts them. `services` puts them into a daemon's service
/// group; as a `Service` of its own (without a daemon) it runs them in a group of their own,
/// then closes the node's producers once every task has stopped (the relays have drained).
public final class NodeRuntime: Service, Sendable {
  public let relays: [OutboxRelay]
  public let workers: [ConsumeWorker]
  /// The DLT workers of the node's roles (`points-service-dlt`, `sagad-dlt`).
  public let deadLetterWorkers: [DeadLetterWorker]
  /// The dead-letter store (`dlt.sqlite`) and its operations: list, show, replay, discard.
  public let deadLetters: DeadLetterService
  /// Runs and restarts every long-running task above; `workers`/`status` show its snapshots.
  public let supervisor: Supervisor
  /// The node's fault injection points (armed only when `failpoints.enabled`).
  public let failpoints: Failpoints
  private let producers: [KafkaProducer]
  private let logger: Logger

  init(
    relays: [OutboxRelay], workers: [ConsumeWorker], deadLetterWorkers: [DeadLetterWorker],
    deadLetters: DeadLetterService, supervisor: Supervisor, producers: [KafkaProducer], failpoints: Failpoints,
    logger: Logger
  ) {
    self.relays = relays
    self.workers = workers
    self.deadLetterWorkers = deadLetterWorkers
    self.deadLetters = deadLetters
    self.supervisor = supervisor
    self.producers = producers
    self.failpoints = failpoints
    self.logger = logger
  }

  /// Applies a new retry policy to every consume worker's next batches (SIGHUP reload);
  /// refused, changing nothing, if it is invalid.
  public func updateRetry(_ policy: RetryPolicy) throws(SagaError) {
    let valid = try policy.validated()
    for worker in workers { worker.updateRetry(valid) }
  }

  /// Every long-running task of the node for the daemon's service group, in start order:
  /// the producers' closer first (so it runs last, once the relays drained), then the
  /// supervised tasks.
  public var services: [ServiceGroupConfiguration.ServiceConfiguration] {
    [ServiceGroupConfiguration.ServiceConfiguration(service: ProducerCloser(producers: producers))]
      + supervisor.services
  }

  /// Runs the node without a daemon around it (tests, sagad-bench): `services` in a group
  /// of their own, stopped in the same order as in sagad's.
  public func run() async throws {
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, logger: logger))
    do {
      try await withGracefulShutdownHandler {
        try await group.run()
      } onGracefulShutdown: {
        Task { await group.triggerGracefulShutdown() }
      }
    } catch {
      await closeProducers()
      throw error
    }
    // Also after a cancellation, which `ProducerCloser` leaves to whoever ends the process.
    await closeProducers()
  }

  private func closeProducers() async {
    for producer in producers { await producer.close(timeout: .seconds(5)) }
  }
}
