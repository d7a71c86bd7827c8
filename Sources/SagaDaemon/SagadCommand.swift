public import ArgumentParser
import Foundation
import Logging
import SagaCore
import SagaRuntime
import ServiceLifecycle

/// `sagad`, the saga daemon: runs the Payments and Points services (or one of them,
/// per `roles`) until SIGTERM or SIGINT, then drains and exits 0.
public struct SagadCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "sagad",
    abstract: "Choreographed payment/points saga over Apache Kafka.",
    discussion: """
      Runs the Payments and Points services of the saga as one daemon, against the Kafka brokers of \
      `kafka.brokers` in the --config file (YAML; every key also as SAGAD_<KEY> in the environment). \
      `sagad --dev` needs no file: it runs an in-memory Kafka cluster inside the process and keeps its \
      databases under ./.sagad/. `sagad dev-broker` runs such a cluster on its own, for several processes.
      """,
    version: SagaCore.version,
    subcommands: [DevBrokerCommand.self]
  )

  @Flag(help: "Development mode: in-memory Kafka inside the process, state under ./.sagad/.")
  var dev = false

  @Option(help: "The YAML configuration file.")
  var config: String?

  @Option(help: "Overrides `state_dir`: where the service databases live.")
  var stateDir: String?

  // Not `--brokers`: that is dev-broker's broker count, and ArgumentParser would
  // hand a subcommand's option to the parent that declares the same name.
  @Option(help: "Overrides `kafka.brokers`: `embedded` or host:port,…")
  var kafkaBrokers: String?

  @Flag(help: "With --dev: create two users and make one payment that is rewarded and one that is compensated.")
  var demo = false

  @OptionGroup public var logging: LoggingOptions

  public init() {}

  public func run() async throws {
    guard dev || config != nil else {
      print(Self.helpMessage())
      throw ValidationError("sagad needs --config FILE, or --dev for a self-contained development run")
    }
    var environment = ProcessInfo.processInfo.environment
    if let kafkaBrokers { environment["SAGAD_KAFKA_BROKERS"] = kafkaBrokers }
    if let stateDir { environment["SAGAD_STATE_DIR"] = stateDir }
    let (loaded, embedded): (DaemonConfiguration, Bool)
    do {
      (loaded, embedded) = try await DaemonConfiguration.load(file: config, dev: dev, environment: environment)
    } catch let error as DaemonConfiguration.Invalid {
      throw ValidationError("\(error)")
    }
    let logger = logging.bootstrap(
      label: "sagad", configured: loaded.logLevel.flatMap(LoggingOptions.Level.init(rawValue:)))
    var node = loaded.node
    try FileManager.default.createDirectory(atPath: node.stateDirectory, withIntermediateDirectories: true)

    var devBroker: DevBroker?
    if embedded {
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

    let saga = try SagaNode(configuration: node, logger: logger)
    // After the node: a ServiceGroup stops services in reverse order, so the admin socket
    // stops taking `pay` before the node drains.
    let admin = AdminServer(
      settings: loaded.admin, commands: AdminCommands(node: saga), version: SagaCore.version, logger: logger)
    var services = [
      ServiceGroupConfiguration.ServiceConfiguration(service: saga),
      ServiceGroupConfiguration.ServiceConfiguration(service: admin),
    ]
    if demo {
      services.append(.init(service: DemoDriver(node: saga, logger: logger), successTerminationBehavior: .ignore))
    }
    var groupConfiguration = ServiceGroupConfiguration(services: services, logger: logger)
    groupConfiguration.gracefulShutdownSignals = [.sigterm, .sigint]
    logger.info(
      "sagad started",
      metadata: [
        "roles": "\(node.roles.map(\.rawValue).sorted())", "stateDir": "\(node.stateDirectory)",
        "brokers": "\(node.bootstrapServers)", "version": "\(SagaCore.version)",
        "adminSocket": "\(loaded.admin.socketPath)",
      ])
    try await ServiceGroup(configuration: groupConfiguration).run()
    await devBroker?.cluster.close()
    logger.info("sagad stopped")
  }
}
