import SagaKafka

/// The names `sagad dev-broker`'s fault lines accept: Kafka request types (`produce`,
/// `offset-commit`, …) and broker error codes by librdkafka's names (`REQUEST_TIMED_OUT`).
enum DevBrokerFaultNames {
  /// Request types by control-line name. The dashed names follow the protocol's own
  /// (`OffsetCommit` → `offset-commit`). Only requests our clients send whose mock handler
  /// takes injected errors: librdkafka 2.0.2's mock ignores them for Metadata and ApiVersions.
  static let apis: [(name: String, key: KafkaAPIKey)] = [
    ("produce", .produce), ("fetch", .fetch), ("list-offsets", .listOffsets), ("offset-commit", .offsetCommit),
    ("offset-fetch", .offsetFetch), ("find-coordinator", .findCoordinator), ("join-group", .joinGroup),
    ("heartbeat", .heartbeat), ("leave-group", .leaveGroup), ("sync-group", .syncGroup),
    ("init-producer-id", .initProducerId),
  ]

  static var apiList: String { apis.map(\.name).joined(separator: ", ") }

  /// The request type named `name` (case-insensitive), or nil.
  static func api(_ name: String) -> KafkaAPIKey? {
    apis.first { $0.name == name.lowercased() }?.key
  }

  /// The control-line name of a request type.
  static func name(of api: KafkaAPIKey) -> String {
    apis.first { $0.key == api }?.name ?? api.description
  }

  /// What `errors <api> <count>` injects when no error is named: a retriable error the
  /// client must handle. Requests to a partition leader get the error a moved leader
  /// gives (the client refreshes metadata and retries); the others a timeout.
  static func defaultError(for api: KafkaAPIKey) -> KafkaError.Code {
    [.produce, .fetch, .listOffsets].contains(api) ? .notLeader : .requestTimedOut
  }

  /// Error codes by librdkafka's name (`rd_kafka_err2name`), upper-cased. Built once by
  /// asking librdkafka for every code in its range, so any name it knows is accepted;
  /// `NOT_LEADER_OR_FOLLOWER` is Kafka's newer name for code 6, which 2.0.2 does not know.
  static let errors: [String: KafkaError.Code] = {
    var table: [String: KafkaError.Code] = [:]
    // Internal codes lie between -200 (_BEGIN) and -100 (_END); broker codes from -1 up.
    for raw in Int32(-199)...Int32(200) where raw != 0 {
      let code = KafkaError.Code(rawValue: raw)
      let name = code.name
      // librdkafka names an unknown code `ERR_<n>?`.
      guard !name.contains("?"), !name.isEmpty else { continue }
      table[name.uppercased()] = code
    }
    table["NOT_LEADER_OR_FOLLOWER"] = .notLeader
    return table
  }()

  /// The error named `name`: librdkafka's name, case-insensitive, with or without the
  /// `RD_KAFKA_RESP_ERR_` prefix (`REQUEST_TIMED_OUT`, `_TRANSPORT`). NO_ERROR is no fault.
  static func error(_ name: String) -> KafkaError.Code? {
    var key = name.uppercased()
    if key.hasPrefix("RD_KAFKA_RESP_ERR_") { key.removeFirst("RD_KAFKA_RESP_ERR_".count) }
    return errors[key]
  }
}
