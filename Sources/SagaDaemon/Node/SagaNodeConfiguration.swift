public import Payments
public import SagaCore
public import SagaRuntime
public import SagaStorage

/// What one sagad process runs (Docs/architecture.md, "Parts"): which services, where their
/// databases live, which brokers they talk to, and how they batch and retry. The
/// daemon's configuration file fills this in.
public struct SagaNodeConfiguration: Sendable {
  /// The services a process can host; both by default, one each when Payments and
  /// Points run on different hosts against one cluster.
  public enum Role: String, CaseIterable, Sendable, Hashable {
    case payments
    case points
  }

  public var roles: Set<Role> = [.payments, .points]
  /// Directory holding `payments.sqlite` and `points.sqlite`.
  public var stateDirectory: String
  /// `host:port,…` of the Kafka bootstrap brokers.
  public var bootstrapServers: String
  public var synchronous: StorageConfiguration.Synchronous = .full
  public var consume = ConsumeSettings()
  /// How workers retry transient failures before dead-lettering (`retry.*`).
  public var retry = RetryPolicy.standard
  public var relay = RelaySettings()
  /// Whether concurrent `pay` requests share one write transaction (`payments.group_commit`);
  /// off, every `pay` is its own transaction and fsync (the benchmarks' baseline).
  public var payGroupCommit = true
  /// The DLT workers and replays (`dlt.*`).
  public var deadLetters = DeadLetterSettings()
  /// The stuck-saga sweeper of the payments role (`sweeper.*`).
  public var sweeper = SweeperSettings()
  public var rewardRule = RewardRule.standard
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
  /// What runs Points when this node runs Payments (`peers.points`): toward a peer without
  /// idempotency the sweeper reports stuck sagas instead of re-announcing them.
  public var pointsPeer = PeerKind.sagad
  /// What runs Payments when this node runs Points (`peers.payments`): toward a peer
  /// without idempotency a duplicate does not send `CompensatePayment` again.
  public var paymentsPeer = PeerKind.sagad

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

  public var paymentsDatabasePath: String { stateDirectory + "/payments.sqlite" }
  public var pointsDatabasePath: String { stateDirectory + "/points.sqlite" }
  /// The dead-letter store, shared by the DLT workers of both roles.
  public var deadLetterDatabasePath: String { stateDirectory + "/dlt.sqlite" }
}
