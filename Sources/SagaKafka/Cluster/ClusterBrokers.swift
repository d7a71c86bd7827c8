/// The brokers a cluster reports in a metadata answer (`KafkaAdmin.brokers`), which
/// broker answered, and the cluster's id.
public struct ClusterBrokers: Sendable, Hashable {
  public struct Broker: Sendable, Hashable {
    public var id: Int32
    public var host: String
    public var port: Int32

    public init(id: Int32, host: String, port: Int32) {
      self.id = id
      self.host = host
      self.port = port
    }
  }

  /// Sorted by id.
  public var brokers: [Broker]
  /// The broker that answered, as librdkafka names it (`host:port/id`).
  public var answeredBy: String
  /// The id the cluster reports; nil from brokers older than Kafka 0.10.1, which send none.
  public var clusterID: String?

  public init(brokers: [Broker], answeredBy: String, clusterID: String? = nil) {
    self.brokers = brokers
    self.answeredBy = answeredBy
    self.clusterID = clusterID
  }

  /// Whether a cluster id is librdkafka's mock cluster's (sagad's development broker:
  /// `sagad dev-broker`, `kafka.brokers: embedded`), which names itself `mockCluster…`.
  /// It holds a fetch that finds no data for the consumer's whole `fetch.wait.max.ms`
  /// where a real broker answers as soon as a record arrives (Docs/configuration.md).
  public static func isMockCluster(id: String?) -> Bool { id?.hasPrefix("mockCluster") == true }
}
