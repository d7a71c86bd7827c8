public import SagaCore
public import SagaStorage

/// What one sagad process runs (DESIGN.md §1, §4): which services, where their
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
  public var relay = RelaySettings()
  public var rewardRule = RewardRule.standard
  /// librdkafka's statistics interval, the source of consumer lag; nil disables it.
  public var statisticsInterval: Duration? = .seconds(5)
  /// Extra librdkafka properties for every producer / consumer.
  public var producerProperties: [String: String] = [:]
  public var consumerProperties: [String: String] = [:]

  public init(stateDirectory: String, bootstrapServers: String) {
    self.stateDirectory = stateDirectory
    self.bootstrapServers = bootstrapServers
  }

  public var paymentsDatabasePath: String { stateDirectory + "/payments.sqlite" }
  public var pointsDatabasePath: String { stateDirectory + "/points.sqlite" }
}
