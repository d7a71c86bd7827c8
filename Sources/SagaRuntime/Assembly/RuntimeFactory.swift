public import CoreMetrics
public import GRDB
public import Logging
public import SagaCore
import SagaKafka
public import SagaStorage

/// The runtime's factories for one node (Docs/architecture.md, "Modules"). Each service's
/// role assembly (`PaymentsRole`, `PointsRole`) asks it for its database, a relay and its
/// consume workers; the composition root then hands it every role's parts and gets
/// back the `NodeRuntime` that runs them.
///
/// Every Kafka client is configured here, from `settings`, so the roles name their workers
/// and handlers but never a broker, a client id or a librdkafka property. Used while a node
/// is assembled, from one task, hence not `Sendable`.
public final class RuntimeFactory {
  public let settings: RuntimeSettings
  /// The node's fault injection points (armed only when `settings.failpointsEnabled`).
  public let failpoints: Failpoints
  public let logger: Logger
  private let hooks: WorkerHooks
  /// Where the node's components record their metrics; nil: the process's bootstrapped factory.
  public let metrics: (any MetricsFactory)?
  /// Traces records handled and rows published (Docs/tracing.md); nil: tracing off.
  public let tracer: SagaTracer?
  /// Every producer made so far, in order: the node closes them once its tasks stopped.
  private var producers: [KafkaProducer] = []
  /// The node's dead-letter store (`dlt.sqlite`), opened by the first part that needs it.
  private var openedDeadLetters: DeadLetterStore?

  /// - Parameters:
  ///   - hooks: given to every consume worker (tests, fault injection).
  ///   - metrics: where the workers count their records; nil: the process's bootstrapped factory.
  /// - Throws: `SagaError` for an invalid `settings.retry`, before anything is created.
  ///   - deadLetters: the node's dead-letter store when the composition root opened it
  ///     (PostgreSQL); nil: `dlt.sqlite` in the state directory, opened on first use.
  public init(
    settings: RuntimeSettings, hooks: WorkerHooks = WorkerHooks(), metrics: (any MetricsFactory)? = nil,
    tracer: SagaTracer? = nil, deadLetters: DeadLetterStore? = nil, logger: Logger
  ) throws(SagaError) {
    // A bad retry.* value is refused here, before anything starts.
    _ = try settings.retry.validated()
    self.settings = settings
    self.hooks = hooks
    self.metrics = metrics
    self.tracer = tracer
    self.logger = logger
    self.failpoints = Failpoints(enabled: settings.failpointsEnabled)
    openedDeadLetters = deadLetters
  }

  /// Opens (creating if needed) the database file at `path` as this node runs every one
  /// (WAL, `storage.synchronous`), for the service's database type to migrate.
  /// - Throws: `StorageError` naming the file.
  public func openDatabase(path: String) throws -> any DatabaseWriter {
    try SagaDatabase.openPool(storage(path: path))
  }

  /// A relay named `name` for `database`'s outbox, with an idempotent producer of its own.
  /// - Parameter timelineTables: the service's saga timeline, purged with the relay's retention.
  public func relay(_ name: String, database: SagaDatabase, timelineTables: [String]) throws -> OutboxRelay {
    var config = KafkaProducerConfiguration(bootstrapServers: settings.bootstrapServers)
    config.clientId = "\(settings.clientIdPrefix)-\(name)"
    config.statisticsInterval = settings.statisticsInterval
    config.overrides = settings.producerProperties
    let producer = try KafkaProducer(configuration: config, logger: logger)
    producers.append(producer)
    var relaySettings = settings.relay
    relaySettings.retention.timelineTables = timelineTables
    return OutboxRelay(
      name: name, database: database, producer: producer, settings: relaySettings, failpoints: failpoints,
      metrics: metrics, deadLetters: try deadLetterStore(), tracer: tracer, logger: logger)
  }

  /// A consume worker named `name` that runs `handler` for `service` on `database` and
  /// wakes `relay` after each commit (unless `relay.wake_on_commit` is off).
  public func worker(
    _ name: String, handler: any SagaMessageHandler, service: SagaService, database: SagaDatabase,
    relay: OutboxRelay
  ) throws -> ConsumeWorker {
    let makeConsumer = consumerFactory(name, group: handler.consumerGroup)
    return ConsumeWorker(
      name: name, consumer: try makeConsumer(), database: database, handler: handler, service: service,
      settings: settings.consume, retry: settings.retry,
      relayHandoff: settings.relay.wakeOnCommit ? relay.handoff : nil, hooks: hooks, failpoints: failpoints,
      makeConsumer: makeConsumer, metrics: metrics, tracer: tracer, logger: logger)
  }

  /// The node from every role's `parts`: one dead-letter store (`dlt.sqlite`) fed by a DLT
  /// worker per group the roles named, the replay producer, and the supervisor over it all.
  public func node(_ parts: RoleParts) throws -> NodeRuntime {
    let store = try deadLetterStore()
    // In the catalogue's order whatever the roles' order: `workers` and `status` list them so.
    let groups = SagaConsumerGroup.allCases.filter(parts.deadLetterGroups.contains)
    let deadLetterWorkers = try groups.map { group in
      let makeConsumer = consumerFactory(group.rawValue, group: group, defaults: settings.deadLetterConsumerDefaults)
      return DeadLetterWorker(
        group: group, consumer: try makeConsumer(), store: store, settings: settings.deadLetters,
        makeConsumer: makeConsumer, logger: logger)
    }
    var replayConfig = KafkaProducerConfiguration(bootstrapServers: settings.bootstrapServers)
    replayConfig.clientId = "\(settings.clientIdPrefix)-dlt-replay"
    replayConfig.overrides = settings.producerProperties
    let replayProducer = try KafkaProducer(configuration: replayConfig, logger: logger)
    producers.append(replayProducer)
    let deadLetters = DeadLetterService(
      store: store, producer: replayProducer, settings: settings.deadLetters, logger: logger)
    // Started in this order and stopped in reverse: workers before the relays that drain
    // their outbox rows.
    var children = parts.relays.map(SupervisedChild.relay) + parts.workers.map(SupervisedChild.worker)
    children += deadLetterWorkers.map { SupervisedChild(name: $0.name, kind: .deadLetterWorker, service: $0) }
    children += parts.tasks
    return NodeRuntime(
      relays: parts.relays, workers: parts.workers, deadLetterWorkers: deadLetterWorkers, deadLetters: deadLetters,
      supervisor: Supervisor(children: children, settings: settings.supervisor, metrics: metrics, logger: logger),
      producers: producers, failpoints: failpoints, logger: logger)
  }

  /// Relays keep the rows they can never send there; the DLT workers store what they read.
  private func deadLetterStore() throws -> DeadLetterStore {
    if let openedDeadLetters { return openedDeadLetters }
    let store = try DeadLetterStore(storage(path: settings.deadLetterDatabasePath))
    openedDeadLetters = store
    return store
  }

  private func storage(path: String) -> StorageConfiguration {
    StorageConfiguration(path: path, synchronous: settings.synchronous)
  }

  /// A restart (supervisor) needs a fresh consumer: a closed one has left the group.
  /// - Parameter defaults: what `kafka.consumer.*` is applied over; nil: `consumerDefaults`.
  private func consumerFactory(
    _ name: String, group: SagaConsumerGroup, defaults: [String: String]? = nil
  ) -> @Sendable () throws -> KafkaConsumer {
    var config = KafkaConsumerConfiguration(bootstrapServers: settings.bootstrapServers, groupId: group.rawValue)
    config.clientId = "\(settings.clientIdPrefix)-\(name)"
    config.statisticsInterval = settings.statisticsInterval
    config.overrides = (defaults ?? settings.consumerDefaults).merging(
      settings.consumerProperties, uniquingKeysWith: { _, configured in configured })
    return { [config, logger] in try KafkaConsumer(configuration: config, logger: logger) }
  }
}
