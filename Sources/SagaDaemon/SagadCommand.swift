public import ArgumentParser
import CoreMetrics
import Foundation
import Logging
import SagaCore
import SagaKafka
import SagaRuntime
import ServiceLifecycle
import UnixSignals

/// `sagad`, the saga daemon: runs the Payments and Points services (or one of them,
/// per `roles`) until SIGTERM or SIGINT, then drains and exits 0 (1 if the drain outlasts
/// `shutdown.timeout`). SIGHUP reloads the reloadable keys.
public struct SagadCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "sagad",
    abstract: "Choreographed payment/points saga over Apache Kafka.",
    discussion: """
      Runs the Payments and Points services of the saga as one daemon, against the Kafka brokers of \
      `kafka.brokers` in the --config file (YAML, default \(DaemonConfiguration.defaultFile); every key also \
      as SAGAD_<KEY> in the environment). `sagad --dev` needs no file: it runs an in-memory Kafka cluster \
      inside the process and keeps its databases under ./.sagad/. `sagad check-config` validates a \
      configuration without starting anything; `sagad dev-broker` runs a development cluster on its own; \
      `sagad migrate-storage` copies a stopped instance's SQLite state into PostgreSQL.
      """,
    version: SagaCore.version,
    subcommands: [CheckConfigCommand.self, DevBrokerCommand.self, MigrateStorageCommand.self]
  )

  @OptionGroup var source: ConfigurationOptions

  @Flag(help: "With --dev: create two users and make one payment that is rewarded and one that is compensated.")
  var demo = false

  @OptionGroup public var logging: LoggingOptions

  public init() {}

  public func run() async throws {
    let loaded = try await source.load()
    let logger = logging.bootstrap(label: "sagad", configured: loaded.logLevel)
    var node = loaded.node
    // Before anything is created: the databases hold every wallet (Docs/operations.md, "Security").
    StatePermissions.restrictUmask()
    let permissions = StatePermissions(
      directory: node.stateDirectory, group: try StatePermissions.resolveGroup(loaded.stateDirectoryGroup))
    try FileManager.default.createDirectory(atPath: node.stateDirectory, withIntermediateDirectories: true)

    var devBroker: DevBroker?
    if loaded.embeddedBroker {
      logger.warning(
        "KAFKA IS IN-MEMORY (librdkafka mock cluster inside this process): for development only, events are lost on exit"
      )
      let broker = try DevBroker(brokers: 1, partitions: 3, logger: logger)
      node.bootstrapServers = broker.cluster.bootstrapServers
      let file = node.stateDirectory + "/bootstrap"
      try Data((node.bootstrapServers + "\n").utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
      logger.info(
        "embedded Kafka is listening", metadata: ["bootstrap": "\(node.bootstrapServers)", "bootstrapFile": "\(file)"])
      devBroker = broker
    }

    // Its own admin client: a probe waiting on a dead cluster must not delay `lag`.
    let brokerProbe = BrokerProbe(
      bootstrapServers: node.bootstrapServers,
      admin: try KafkaAdmin(
        bootstrapServers: node.bootstrapServers, overrides: node.producerProperties, logger: logger),
      interval: node.statisticsInterval ?? .seconds(5))
    node.mockCluster = await MockClusterCheck.run(
      embedded: devBroker != nil, configured: node.consumerProperties, probe: brokerProbe, logger: logger)

    let metrics = SagaMetrics(version: SagaCore.version)
    // Once per process, before anything records: whatever counts through swift-metrics
    // lands in the registry /metrics serves.
    MetricsSystem.bootstrap(metrics.factory)
    // Off unless an endpoint is configured; the drop counter exists either way.
    let tracing = try TracingBackend.make(
      settings: loaded.tracing, environment: ProcessInfo.processInfo.environment,
      roles: node.roles.map(\.rawValue).sorted(),
      diagnostics: TracingDiagnostics.State(factory: metrics.factory, logger: logger))
    // PostgreSQL: waits here while the server is unreachable; systemd is told why.
    let storage = try await NodeStorage.open(node, logger: logger) { error, delay in
      _ = SdNotify().status("waiting for PostgreSQL (\(error.message)); next attempt in \(delay)")
    }
    let saga = try SagaNode(
      configuration: node, storage: storage, metrics: metrics.factory, tracer: tracing?.tracer, logger: logger)
    // After the node opened (or created) its databases, so they are covered too.
    try permissions.apply(logger: logger)
    let control = DaemonControl(
      notify: SdNotify(), shutdownTimeout: loaded.shutdownTimeout, logger: logger,
      pendingDetail: {
        saga.supervisor.snapshots().filter { $0.state != .stopped }.map { "\($0.name) \($0.state)" }
      })
    // One sampler for `lag` and kafka_consumer_lag, with its own admin client: the broker's
    // offsets move even when a wedged consumer's statistics stand still, and they exist for
    // the partner's groups, whose consumers run elsewhere.
    let lag = ConsumerLagSampler(
      node: saga, window: loaded.lagWindow,
      admin: try KafkaAdmin(
        bootstrapServers: node.bootstrapServers, overrides: node.producerProperties, logger: logger),
      logger: logger)
    var commands = AdminCommands(node: saga)
    commands.daemon = DaemonAdmin(control: control, lag: lag, brokers: brokerProbe)
    let reload = ConfigReload(
      file: source.file, dev: source.dev, environment: source.environment(), loaded: loaded,
      logLevelPinned: logging.logLevel != nil, logger: logger,
      // retry.* apply to the workers' next batches, sweeper.* to the next sweep.
      apply: { next in
        do {
          try saga.updateRetry(next.node.retry)
        } catch {
          return DaemonConfigKey.all.filter { $0.name.hasPrefix("retry.") }.map(\.name)
        }
        saga.sweeper?.update(next.node.sweeper)
        return []
      })

    let admin = AdminServer(settings: loaded.admin, commands: commands, version: SagaCore.version, logger: logger)
    let watchdog = Watchdog(
      control: control, workers: saga.workers, supervisor: saga.supervisor, adminSocket: loaded.admin.socketPath,
      logger: logger)
    // One group runs everything long-running and stops it in reverse order, each service
    // after the previous one finished: the signal service first (STOPPING=1), the admin
    // socket next (no more `pay`), then the node's workers, the relays that drain the
    // outbox and the producers; metrics, the samplers and the watchdog keep working
    // through the drain, and the deadline goes last.
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
      .init(service: ShutdownDeadline(control: control, timeout: loaded.shutdownTimeout), serviceName: "deadline")
    ]
    // Stopped after everything that makes spans, so it flushes the last ones.
    if let tracing { services.append(.init(service: tracing.service, serviceName: "tracing")) }
    if loaded.metrics.enabled {
      let collector = MetricsCollector(node: saga, metrics: metrics, sampler: lag, logger: logger)
      let server = MetricsServer(
        settings: loaded.metrics, addressFile: node.stateDirectory + "/" + MetricsSettings.addressFileName,
        scrape: { await collector.scrape() }, readiness: { collector.readiness }, logger: logger)
      services.append(.init(service: server, serviceName: "metrics"))
    }
    services += [
      .init(service: BackgroundLoop { await lag.run() }, serviceName: "lag-sampler"),
      .init(service: BackgroundLoop { await brokerProbe.run() }, serviceName: "broker-probe"),
      .init(service: BackgroundLoop { await watchdog.run() }, serviceName: "watchdog"),
    ]
    services += saga.services
    services.append(.init(service: admin, serviceName: "admin"))
    if demo {
      services.append(
        .init(service: DemoDriver(node: saga, logger: logger), successTerminationBehavior: .ignore, serviceName: "demo")
      )
    }
    let hangups = await UnixSignalsSequence(trapping: .sighup)
    services.append(
      .init(service: SignalService(control: control, reload: reload, hangups: hangups), serviceName: "signals"))
    var configuration = ServiceGroupConfiguration(services: services, logger: logger)
    configuration.gracefulShutdownSignals = [.sigterm, .sigint]
    configuration.maximumGracefulShutdownDuration = loaded.shutdownTimeout + ShutdownDeadline.escalationDelay
    // Past this, a service that ignores cancellation ends the process (a crash, not exit 0).
    configuration.maximumCancellationDuration = .seconds(10)
    let group = ServiceGroup(configuration: configuration)
    control.attach(group)
    logger.info(
      "sagad started",
      metadata: [
        "roles": "\(node.roles.map(\.rawValue).sorted())", "stateDir": "\(node.stateDirectory)",
        "brokers": "\(node.bootstrapServers)", "version": "\(SagaCore.version)",
        "adminSocket": "\(loaded.admin.socketPath)", "config": "\(source.file ?? "none")",
        "tracing":
          "\(tracing == nil ? "off" : loaded.tracing.endpoint.map(TracingBackend.tracesURL) ?? "OTEL_* environment")",
      ])
    try await group.run()
    await brokerProbe.close()
    await devBroker?.cluster.close()
    guard !control.timedOut else { throw ExitCode.failure }
    logger.info("sagad stopped")
  }
}
