public import SagaCore
import SagaKafka
public import ServiceLifecycle

/// The generic half of a node, as `RuntimeFactory.node(_:)` built it from the roles'
/// parts: every relay, consume worker and DLT worker, the dead-letter operations, and the
/// `Supervisor` that runs and restarts them. As a `Service` it runs the supervisor, then
/// closes the node's producers once every task has stopped (the relays have drained).
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

  init(
    relays: [OutboxRelay], workers: [ConsumeWorker], deadLetterWorkers: [DeadLetterWorker],
    deadLetters: DeadLetterService, supervisor: Supervisor, producers: [KafkaProducer], failpoints: Failpoints
  ) {
    self.relays = relays
    self.workers = workers
    self.deadLetterWorkers = deadLetterWorkers
    self.deadLetters = deadLetters
    self.supervisor = supervisor
    self.producers = producers
    self.failpoints = failpoints
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

  /// Runs the node without a daemon around it (tests, sagad-bench).
  public func run() async throws {
    do {
      try await supervisor.run()
    } catch {
      await closeProducers()
      throw error
    }
    await closeProducers()
  }

  private func closeProducers() async {
    for producer in producers { await producer.close(timeout: .seconds(5)) }
  }
}
