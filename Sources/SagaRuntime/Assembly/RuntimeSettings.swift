public import SagaCore
public import SagaStorage

/// What every role of one sagad process shares (Docs/architecture.md, "Modules"): the
/// brokers and how its Kafka clients are named and tuned, how its databases commit, how its
/// workers batch and retry, where the dead-letter store lives, and how its tasks are
/// supervised. Nothing here names a service; `RuntimeFactory` builds the parts from it.
public struct RuntimeSettings: Sendable {
  /// Directory holding the databases: the services' and `dlt.sqlite`.
  public var stateDirectory: String
  /// `host:port,…` of the Kafka bootstrap brokers.
  public var bootstrapServers: String
  public var synchronous: StorageConfiguration.Synchronous = .full
  public var consume = ConsumeSettings()
  /// How workers retry transient failures before dead-lettering (`retry.*`).
  public var retry = RetryPolicy.standard
  public var relay = RelaySettings()
  /// The DLT workers and replays (`dlt.*`).
  public var deadLetters = DeadLetterSettings()
  /// librdkafka's statistics interval, also the lag sampler's pace; nil disables the statistics.
  public var statisticsInterval: Duration? = .seconds(5)
  /// Extra librdkafka properties for every producer / consumer. Consumer properties
  /// are applied over `defaultConsumerProperties`, key by key.
  public var producerProperties: [String: String] = [:]
  /// Kafka client ids are `<clientIdPrefix>-<worker or relay>` (`kafka.client_id`).
  public var clientIdPrefix = "sagad"
  public var consumerProperties: [String: String] = [:]
  /// Whether failpoints can be armed (`failpoints.enabled`); off in production.
  public var failpointsEnabled = false
  /// How the node's long-running tasks are restarted after a failure (`supervisor.*`).
  public var supervisor = SupervisorSettings()

  /// What the node's consumers use unless `consumerProperties` says otherwise.
  ///
  /// `fetch.wait.max.ms` is how long a broker may hold a fetch that found no new data.
  /// librdkafka's default is 500 ms, and librdkafka's mock cluster (the dev broker,
  /// `sagad --dev`, the benchmarks) holds an empty fetch for that whole time instead of
  /// answering when a record arrives: every hop of the saga then waited up to 500 ms,
  /// ~250 ms on average. 10 ms keeps a hop's wait small on any broker; the cost is up to
  /// 100 empty fetches a second per idle consumer connection, which a broker serves
  /// cheaply. Raise it for large, mostly idle deployments that do not mind the latency.
  public static let defaultConsumerProperties: [String: String] = ["fetch.wait.max.ms": "10"]

  public init(stateDirectory: String, bootstrapServers: String) {
    self.stateDirectory = stateDirectory
    self.bootstrapServers = bootstrapServers
  }

  /// The dead-letter store, shared by the DLT workers of every role.
  public var deadLetterDatabasePath: String { stateDirectory + "/dlt.sqlite" }
}
