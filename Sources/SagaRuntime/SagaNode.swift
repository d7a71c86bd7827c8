import Foundation
import GRDB
public import Logging
public import Payments
public import Points
import SagaCore
import SagaKafka
import SagaStorage
public import ServiceLifecycle

/// The services of one sagad process, wired for its roles: per service a database,
/// an idempotent producer with its outbox relay, and one consume worker per consumer
/// group. As a `Service` it runs them in a ServiceGroup ordered so that a graceful
/// shutdown stops the workers first and the relays last (they drain the outbox).
public final class SagaNode: Service, Sendable {
  public let configuration: SagaNodeConfiguration
  public let payments: PaymentsService?
  public let points: PointsService?
  public let workers: [ConsumeWorker]
  public let relays: [OutboxRelay]
  private let producers: [KafkaProducer]
  private let logger: Logger

  public init(
    configuration: SagaNodeConfiguration, hooks: WorkerHooks = WorkerHooks(),
    observers: SagaObservers = SagaObservers(), logger: Logger
  ) throws {
    self.configuration = configuration
    self.logger = logger
    var workers: [ConsumeWorker] = []
    var relays: [OutboxRelay] = []
    var producers: [KafkaProducer] = []

    func open(_ path: String, _ migrations: (inout DatabaseMigrator) -> Void) throws -> SagaDatabase {
      try SagaDatabase(
        StorageConfiguration(path: path, synchronous: configuration.synchronous), migrations: migrations)
    }
    func relay(_ name: String, _ database: SagaDatabase) throws -> OutboxRelay {
      var config = KafkaProducerConfiguration(bootstrapServers: configuration.bootstrapServers)
      config.clientId = "sagad-\(name)"
      config.statisticsInterval = configuration.statisticsInterval
      config.overrides = configuration.producerProperties
      let producer = try KafkaProducer(configuration: config, logger: logger)
      producers.append(producer)
      let relay = OutboxRelay(
        name: name, database: database, producer: producer, settings: configuration.relay, logger: logger)
      relays.append(relay)
      return relay
    }
    func worker(
      _ name: String, _ handler: any SagaMessageHandler, _ service: SagaService, _ database: SagaDatabase,
      _ relay: OutboxRelay
    ) throws {
      var config = KafkaConsumerConfiguration(
        bootstrapServers: configuration.bootstrapServers, groupId: handler.consumerGroup.rawValue)
      config.clientId = "sagad-\(name)"
      config.statisticsInterval = configuration.statisticsInterval
      config.overrides = SagaNodeConfiguration.defaultConsumerProperties.merging(
        configuration.consumerProperties, uniquingKeysWith: { _, configured in configured })
      workers.append(
        ConsumeWorker(
          name: name, consumer: try KafkaConsumer(configuration: config, logger: logger), database: database,
          handler: handler, service: service, settings: configuration.consume, relayWakeup: relay.wakeup,
          hooks: hooks, logger: logger))
    }

    if configuration.roles.contains(.payments) {
      let database = try open(configuration.paymentsDatabasePath, PaymentsSchema.register(in:))
      let relay = try relay("payments", database)
      // Once per committed pay group, so ReservationCompleted leaves at once rather than
      // at the relay's next idle check, whoever called pay (this node, the admin socket).
      let wakeup = relay.wakeup
      let payments = PaymentsService(database: database, afterPayCommit: { _ in wakeup.signal() })
      try worker("payments-saga-tracker", PaymentsSagaTrackerHandler(), .payments, database, relay)
      try worker(
        "payment-compensation", PaymentCompensationHandler(observer: observers.compensation), .payments, database,
        relay)
      self.payments = payments
    } else {
      self.payments = nil
    }
    if configuration.roles.contains(.points) {
      let database = try open(configuration.pointsDatabasePath, PointsSchema.register(in:))
      self.points = PointsService(database: database)
      let relay = try relay("points", database)
      try worker(
        "points", ReservationCompletedHandler(rule: configuration.rewardRule, observer: observers.reward), .points,
        database, relay)
    } else {
      self.points = nil
    }
    self.workers = workers
    self.relays = relays
    self.producers = producers
  }

  /// Pays through Payments. Its relay is woken by the service itself, once per
  /// committed group of payments (`afterPayCommit`).
  public func pay(_ request: PayRequest) async throws -> PayResult {
    guard let payments else { throw SagaError(.internalError, "this node does not run the payments role") }
    return try await payments.pay(request)
  }

  public func run() async throws {
    // ServiceGroup stops services in reverse order: workers first, relays last.
    let services: [any Service] = relays + workers
    let group = ServiceGroup(
      configuration: ServiceGroupConfiguration(
        services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }, logger: logger))
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
    await closeProducers()
  }

  private func closeProducers() async {
    for producer in producers { await producer.close(timeout: .seconds(5)) }
  }
}
