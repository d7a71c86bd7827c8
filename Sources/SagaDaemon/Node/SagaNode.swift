import Foundation
public import Logging
public import Payments
public import Points
public import SagaCore
import SagaKafka
public import SagaRuntime
import SagaStorage
public import ServiceLifecycle

/// The services of one sagad process, wired for its roles: per service a database,
/// an idempotent producer with its outbox relay, and one consume worker per consumer
/// group. As a `Service` it runs them under a `Supervisor` (restarts with back-off,
/// pause, operator restart), ordered so that a graceful shutdown stops the workers first
/// and the relays last (they drain the outbox).
public final class SagaNode: Service, Sendable {
  public let configuration: SagaNodeConfiguration
  public let payments: PaymentsService?
  public let points: PointsService?
  public let workers: [ConsumeWorker]
  public let relays: [OutboxRelay]
  /// The stuck-saga sweeper of the payments role; nil without it.
  public let sweeper: StuckSagaSweeper?
  /// The node's fault injection points (armed only when `failpointsEnabled`).
  public let failpoints: Failpoints
  /// The dead-letter store (`dlt.sqlite`) and its operations: list, show, replay, discard.
  public let deadLetters: DeadLetterService
  /// The DLT workers of the node's roles (`points-service-dlt`, `sagad-dlt`).
  public let deadLetterWorkers: [DeadLetterWorker]
  /// Runs and restarts every long-running task above; `workers`/`status` show its snapshots.
  public let supervisor: Supervisor
  private let producers: [KafkaProducer]
  private let logger: Logger
  private let observers: SagaObservers

  public init(
    configuration: SagaNodeConfiguration, hooks: WorkerHooks = WorkerHooks(),
    observers: SagaObservers = SagaObservers(), logger: Logger
  ) throws {
    self.configuration = configuration
    self.logger = logger
    self.observers = observers
    var hooks = hooks
    if let observe = observers.record {
      let previous = hooks.recordProcessed
      hooks.recordProcessed = { observation in
        previous?(observation)
        observe(observation)
      }
    }
    // A bad retry.* value is refused here, before anything starts.
    _ = try configuration.retry.validated()
    let failpoints = Failpoints(enabled: configuration.failpointsEnabled)
    self.failpoints = failpoints
    var workers: [ConsumeWorker] = []
    var relays: [OutboxRelay] = []
    var producers: [KafkaProducer] = []

    func storage(_ path: String) -> StorageConfiguration {
      StorageConfiguration(path: path, synchronous: configuration.synchronous)
    }
    /// `timelineTables`: the service's saga timeline, purged with the relay's retention.
    func relay(_ name: String, _ database: SagaDatabase, timelineTables: [String]) throws -> OutboxRelay {
      var config = KafkaProducerConfiguration(bootstrapServers: configuration.bootstrapServers)
      config.clientId = "\(configuration.clientIdPrefix)-\(name)"
      config.statisticsInterval = configuration.statisticsInterval
      config.overrides = configuration.producerProperties
      let producer = try KafkaProducer(configuration: config, logger: logger)
      producers.append(producer)
      var settings = configuration.relay
      settings.retention.timelineTables = timelineTables
      let relay = OutboxRelay(
        name: name, database: database, producer: producer, settings: settings, failpoints: failpoints,
        logger: logger)
      relays.append(relay)
      return relay
    }
    // A restart (supervisor) needs a fresh consumer: a closed one has left the group.
    func consumerFactory(_ name: String, group: SagaConsumerGroup) -> @Sendable () throws -> KafkaConsumer {
      var config = KafkaConsumerConfiguration(
        bootstrapServers: configuration.bootstrapServers, groupId: group.rawValue)
      config.clientId = "\(configuration.clientIdPrefix)-\(name)"
      config.statisticsInterval = configuration.statisticsInterval
      config.overrides = SagaNodeConfiguration.defaultConsumerProperties.merging(
        configuration.consumerProperties, uniquingKeysWith: { _, configured in configured })
      return { [config] in try KafkaConsumer(configuration: config, logger: logger) }
    }
    func worker(
      _ name: String, _ handler: any SagaMessageHandler, _ service: SagaService, _ database: SagaDatabase,
      _ relay: OutboxRelay
    ) throws {
      let makeConsumer = consumerFactory(name, group: handler.consumerGroup)
      workers.append(
        ConsumeWorker(
          name: name, consumer: try makeConsumer(), database: database,
          handler: handler, service: service, settings: configuration.consume, retry: configuration.retry,
          relayWakeup: configuration.relay.wakeOnCommit ? relay.wakeup : nil, hooks: hooks, failpoints: failpoints,
          makeConsumer: makeConsumer, logger: logger))
    }

    if configuration.roles.contains(.payments) {
      let database = try SagaDatabase(
        storage(configuration.paymentsDatabasePath), migrations: PaymentsSchema.register(in:))
      let relay = try relay("payments", database, timelineTables: [PaymentsSchema.timelineTable])
      // Once per committed pay group, so ReservationCompleted leaves at once rather than
      // at the relay's next idle check, whoever called pay (this node, the admin socket).
      let wakeup = relay.wakeup
      let wakeOnCommit = configuration.relay.wakeOnCommit
      let afterPayCommit: (@Sendable (Int) -> Void)? = wakeOnCommit ? { @Sendable _ in wakeup.signal() } : nil
      let payments = PaymentsService(
        database: database, maxGroupSize: configuration.payGroupCommit ? PaymentsService.defaultMaxGroupSize : 1,
        failpoints: failpoints, afterPayCommit: afterPayCommit)
      try worker("payments-saga-tracker", PaymentsSagaTrackerHandler(), .payments, database, relay)
      try worker(
        "payment-compensation",
        PaymentCompensationHandler(failpoints: failpoints, observer: observers.compensation), .payments, database,
        relay)
      self.payments = payments
      self.sweeper = StuckSagaSweeper(
        payments: payments, settings: configuration.sweeper, relayWakeup: wakeOnCommit ? wakeup : nil,
        pointsPeer: configuration.pointsPeer, logger: logger)
    } else {
      self.payments = nil
      self.sweeper = nil
    }
    if configuration.roles.contains(.points) {
      let database = try SagaDatabase(storage(configuration.pointsDatabasePath), migrations: PointsSchema.register(in:))
      self.points = PointsService(database: database)
      let relay = try relay("points", database, timelineTables: [PointsSchema.timelineTable])
      let handler = ReservationCompletedHandler(
        rule: configuration.rewardRule, paymentsPeer: configuration.paymentsPeer, failpoints: failpoints,
        observer: observers.reward)
      if let observe = observers.rewardLatency {
        try worker("points", RewardTimingHandler(inner: handler, observe: observe), .points, database, relay)
      } else {
        try worker("points", handler, .points, database, relay)
      }
    } else {
      self.points = nil
    }
    // One dead-letter store per process, fed by the DLT group of each role it runs.
    let deadLetterStore = try DeadLetterStore(
      StorageConfiguration(path: configuration.deadLetterDatabasePath, synchronous: configuration.synchronous))
    var deadLetterWorkers: [DeadLetterWorker] = []
    for group in [SagaConsumerGroup.pointsServiceDeadLetters, .sagadDeadLetters]
    where configuration.roles.contains(group == .pointsServiceDeadLetters ? .points : .payments) {
      let makeConsumer = consumerFactory(group.rawValue, group: group)
      deadLetterWorkers.append(
        DeadLetterWorker(
          group: group, consumer: try makeConsumer(), store: deadLetterStore, settings: configuration.deadLetters,
          makeConsumer: makeConsumer, logger: logger))
    }
    var replayConfig = KafkaProducerConfiguration(bootstrapServers: configuration.bootstrapServers)
    replayConfig.clientId = "\(configuration.clientIdPrefix)-dlt-replay"
    replayConfig.overrides = configuration.producerProperties
    let replayProducer = try KafkaProducer(configuration: replayConfig, logger: logger)
    producers.append(replayProducer)
    self.deadLetters = DeadLetterService(
      store: deadLetterStore, producer: replayProducer, settings: configuration.deadLetters, logger: logger)
    self.deadLetterWorkers = deadLetterWorkers
    self.workers = workers
    self.relays = relays
    self.producers = producers
    // Started in this order and stopped in reverse: workers before the relays that drain
    // their outbox rows. Add new long-running tasks here.
    var children = relays.map(SupervisedChild.relay) + workers.map(SupervisedChild.worker)
    children += deadLetterWorkers.map { SupervisedChild(name: $0.name, kind: .deadLetterWorker, service: $0) }
    if let sweeper { children.append(SupervisedChild(name: sweeper.name, kind: .sweeper, service: sweeper)) }
    self.supervisor = Supervisor(children: children, settings: configuration.supervisor, logger: logger)
  }

  /// Applies a new retry policy to every consume worker's next batches (SIGHUP reload);
  /// refused, changing nothing, if it is invalid.
  public func updateRetry(_ policy: RetryPolicy) throws(SagaError) {
    let valid = try policy.validated()
    for worker in workers { worker.updateRetry(valid) }
  }

  /// Pays through Payments. Its relay is woken by the service itself, once per
  /// committed group of payments (`afterPayCommit`).
  public func pay(_ request: PayRequest) async throws -> PayResult {
    guard let payments else { throw SagaError(.internalError, "this node does not run the payments role") }
    do {
      let result = try await payments.pay(request)
      observers.payment?(result.duplicate ? .duplicate : .paid)
      return result
    } catch {
      // A storage or internal error is a failure; anything else the request's own fault.
      let failed = error.code == .storage || error.code == .internalError
      observers.payment?(failed ? .failed : .rejected)
      throw error
    }
  }

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
