/// A Kafka protocol request type (the wire protocol's `ApiKey`), used to inject request
/// errors into `EmbeddedKafkaCluster`. Only the requests our clients send are named.
public struct KafkaAPIKey: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public let rawValue: Int16
  public init(rawValue: Int16) { self.rawValue = rawValue }

  public static let produce = KafkaAPIKey(rawValue: 0)
  public static let fetch = KafkaAPIKey(rawValue: 1)
  public static let listOffsets = KafkaAPIKey(rawValue: 2)
  public static let metadata = KafkaAPIKey(rawValue: 3)
  public static let offsetCommit = KafkaAPIKey(rawValue: 8)
  public static let offsetFetch = KafkaAPIKey(rawValue: 9)
  public static let findCoordinator = KafkaAPIKey(rawValue: 10)
  public static let joinGroup = KafkaAPIKey(rawValue: 11)
  public static let heartbeat = KafkaAPIKey(rawValue: 12)
  public static let leaveGroup = KafkaAPIKey(rawValue: 13)
  public static let syncGroup = KafkaAPIKey(rawValue: 14)
  public static let apiVersions = KafkaAPIKey(rawValue: 18)
  public static let createTopics = KafkaAPIKey(rawValue: 19)
  public static let initProducerId = KafkaAPIKey(rawValue: 22)
  public static let addPartitionsToTxn = KafkaAPIKey(rawValue: 24)
  public static let endTxn = KafkaAPIKey(rawValue: 26)

  private static let names: [Int16: String] = [
    0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit", 9: "OffsetFetch",
    10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
    18: "ApiVersions", 19: "CreateTopics", 22: "InitProducerId", 24: "AddPartitionsToTxn", 26: "EndTxn",
  ]

  /// The protocol's name for the request, e.g. `Produce`, or `ApiKey(n)` for others.
  public var description: String { Self.names[rawValue] ?? "ApiKey(\(rawValue))" }
}
