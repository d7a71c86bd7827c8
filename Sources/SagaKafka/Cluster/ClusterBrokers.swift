/// The brokers a cluster reports in a metadata answer (`KafkaAdmin.brokers`), and which
/// broker answered.
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

  public init(brokers: [Broker], answeredBy: String) {
    self.brokers = brokers
    self.answeredBy = answeredBy
  }
}
