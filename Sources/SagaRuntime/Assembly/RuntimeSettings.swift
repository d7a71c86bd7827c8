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
  /// are applied over `consumerDefaults`, key by key.
  public var producerProperties: [String: String] = [:]
  /// Kafka client ids are `<clientIdPrefix>-<worker or relay>` (`kafka.client_id`).
  public var clientIdPrefix = "sagad"
  public var consumerProperties: [String: String] = [:]
  /// Whether failpoints can be armed (`failpoints.enabled`); off in production.
  public var failpointsEnabled = false
  /// How the node's long-running tasks are restarted after a failure (`supervisor.*`).
  public var supervisor = SupervisorSettings()

  /// Whether the brokers are librdkafka's mock cluster (the development broker), which
  /// `consumerDefaults` tunes for; the daemon finds out at start (`ClusterBrokers.isMockCluster(id:)`).
  public var mockCluster = false

  /// What the node's consumers use unless `consumerProperties` says otherwise.
  ///
  /// `fetch.wait.max.ms` is how long a broker may hold a fetch that found no new data.
  /// librdkafka's default is 500 ms, and librdkafka's mock cluster (the dev broker,
  /// `sagad --dev`, the benchmarks) holds an empty fetch for that whole time instead of
  /// answering when a record arrives: every hop of the saga then waited up to 500 ms,
  /// ~250 ms on average. 10 ms keeps a hop's wait small on any broker, also when the
  /// daemon could not tell which kind it talks to; the cost is up to 100 empty fetches a
  /// second per idle consumer connection, which a broker serves cheaply. Raise it for
  /// large, mostly idle deployments.
  public static let defaultConsumerProperties: [String: String] = ["fetch.wait.max.ms": "10"]

  /// `defaultConsumerProperties` for the mock cluster: 3 ms. A real broker answers a
  /// waiting fetch when a record arrives, so a saga's two hops cost it about a round trip
  /// each; the mock makes each wait up to the whole fetch wait, 10 ms at p99 with the
  /// default, which made the dev broker a third of a saga's latency at 1,000/s. The price
  /// is idle fetches: ~3 % of a core more in sagad and as much in the broker, for a
  /// development setup only (Docs/benchmarks.md).
  public static let mockClusterConsumerProperties: [String: String] = ["fetch.wait.max.ms": "3"]

  /// The consumer defaults for these brokers, under `consumerProperties`.
  public var consumerDefaults: [String: String] {
    mockCluster ? Self.mockClusterConsumerProperties : Self.defaultConsumerProperties
  }

  /// `consumerDefaults` for the DLT workers' consumers: a 100 ms fetch wait. A dead letter
  /// waits for an operator, not for a saga, and the DLT topics are empty nearly always, so a
  /// short wait there only bought empty fetches: against the mock cluster one every 3 ms per
  /// DLT consumer, in sagad and in the broker, also under load (Docs/benchmarks.md).
  public var deadLetterConsumerDefaults: [String: String] {
    consumerDefaults.merging(["fetch.wait.max.ms": "100"]) { _, deadLetter in deadLetter }
  }

  public init(stateDirectory: String, bootstrapServers: String) {
    self.stateDirectory = stateDirectory
    self.bootstrapServers = bootstrapServers
  }

  /// The dead-letter store, shared by the DLT workers of every role.
  public var deadLetterDatabasePath: String { stateDirectory + "/dlt.sqlite" }
}
