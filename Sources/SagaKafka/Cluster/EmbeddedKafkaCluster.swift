import CRdKafka
import Foundation
public import Logging
import Synchronization

/// librdkafka's mock cluster: N in-process Kafka brokers that speak the wire protocol on
/// loopback sockets, for tests and `sagad dev-broker`. Any Kafka client (ours, `kcat`,
/// another process) can connect to `bootstrapServers`. Data lives in memory only, and
/// librdkafka truncates each partition's log at a few MB.
///
/// The control calls (`createTopic`, `setBrokerDown`, …) are synchronous: each is one
/// round trip to the mock cluster's own thread, which answers from memory without any
/// network I/O. `destroy` joins that thread and closes every socket, so async code should
/// call `close()` instead, which does it on a thread of its own.
public final class EmbeddedKafkaCluster: Sendable {
  /// `host:port,…` of every mock broker, for `bootstrap.servers`.
  public let bootstrapServers: String
  /// The brokers' ids; librdkafka numbers mock brokers from 1.
  public let brokerIDs: [Int32]

  /// librdkafka needs a client handle to own the mock cluster. It is a producer that is
  /// never used and has no `bootstrap.servers`, so it never opens a connection itself.
  private let client: RdKafkaClient
  /// The `rd_kafka_mock_cluster_t`, nil once destroyed. The lock is held across every
  /// call that uses the pointer, so `destroy` can never free it under a running call.
  private let cluster: Mutex<MockClusterPointer?>

  public init(brokers: Int = 1, logger: Logger) throws(KafkaError) {
    guard (1...64).contains(brokers) else {
      throw KafkaError(code: .invalidArgument, message: "a mock cluster needs 1–64 brokers, not \(brokers)")
    }
    var configuration = KafkaConfiguration(["client.id": "sagad-embedded-cluster"])
    if logger.logLevel == .trace {
      // Every request the mock brokers serve, for debugging a test or a client.
      configuration["debug"] = "mock"
    } else if logger.logLevel > .debug {
      // Hides the owner handle's notice that it has no bootstrap.servers (it needs none);
      // the mock's warnings and errors still come through.
      configuration["log_level"] = "4"
    }
    let client = try RdKafkaClient(
      type: RD_KAFKA_PRODUCER, configuration: configuration, context: KafkaClientContext(logger: logger))
    guard let mock = rd_kafka_mock_cluster_new(client.handle, Int32(brokers)) else {
      client.destroy()
      throw KafkaError(code: .state, message: "librdkafka could not start a mock cluster", isRetriable: false)
    }
    self.client = client
    self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(mock))
    self.cluster = Mutex(MockClusterPointer(raw: mock))
    self.brokerIDs = Array(1...Int32(brokers))
  }

  /// Creates a topic. An existing topic is an error (`topicAlreadyExists`), and so is a
  /// topic librdkafka auto-created earlier (e.g. on a producer's metadata request), since
  /// its partition count would not be the one asked for.
  public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = 1) throws(KafkaError) {
    guard partitions > 0, replicationFactor > 0, !name.isEmpty else {
      throw KafkaError(
        code: .invalidArgument,
        message:
          "topic '\(name)': partitions (\(partitions)) and replication factor (\(replicationFactor)) must be positive")
    }
    try withCluster("create topic '\(name)'") { mock in
      rd_kafka_mock_topic_create(mock, name, partitions, replicationFactor)
    }
  }

  /// Disconnects the broker's clients and refuses new connections until `setBrokerUp`.
  /// Its partitions do not fail over: the mock has no leader election.
  public func setBrokerDown(_ id: Int32) throws(KafkaError) {
    try checkBroker(id)
    try Self.brokerGoingDown.withLock { _ throws(KafkaError) in
      try withCluster("take broker \(id) down") { mock in rd_kafka_mock_broker_set_down(mock, id) }
    }
  }

  /// Held while a broker goes down, and around a process's child spawns (``whileNoBrokerGoesDown(_:)``).
  private static let brokerGoingDown = Mutex(())

  /// Runs `body` (a child process's spawn) while no mock broker of this process goes down.
  ///
  /// A mock broker taken down closes its listening socket and binds a new one to the same port
  /// at once, to keep it, and librdkafka aborts the whole process when that bind fails. It fails
  /// while a child being spawned holds a copy of the old socket, from its fork until it closes
  /// what it inherited: a test process that spawns children while brokers go down crashed so
  /// (Docs/development.md, "Child processes and hangs"). Spawn inside this, with the child
  /// closing its inherited descriptors before exec (posix_spawn's closefrom action), since
  /// posix_spawn returns only once the child has exec'd.
  public static func whileNoBrokerGoesDown<Result: Sendable, E: Error>(
    _ body: () throws(E) -> Result
  ) throws(E) -> Result {
    try brokerGoingDown.withLock { _ throws(E) in try body() }
  }

  /// Accepts connections on the broker again.
  public func setBrokerUp(_ id: Int32) throws(KafkaError) {
    try checkBroker(id)
    try withCluster("bring broker \(id) up") { mock in rd_kafka_mock_broker_set_up(mock, id) }
  }

  /// Delays every response of the broker by `milliseconds` (a slow network or broker).
  public func setBrokerRoundTripTime(_ id: Int32, milliseconds: Int32) throws(KafkaError) {
    try checkBroker(id)
    try withCluster("set round-trip time of broker \(id)") { mock in
      rd_kafka_mock_broker_set_rtt(mock, id, milliseconds)
    }
  }

  /// Makes `broker` the leader of the partition (creating the topic if needed); -1 leaves
  /// the partition without a leader. Clients notice on their next metadata refresh.
  public func setPartitionLeader(topic: String, partition: Int32, broker: Int32) throws(KafkaError) {
    if broker != -1 { try checkBroker(broker) }
    try withCluster("move leader of \(topic)[\(partition)] to \(broker)") { mock in
      rd_kafka_mock_partition_set_leader(mock, topic, partition, broker)
    }
  }

  /// The next `errors.count` requests of type `apiKey`, to any broker, fail with these
  /// codes in order (`.transport` makes the broker drop the connection instead).
  public func pushRequestErrors(apiKey: KafkaAPIKey, errors: [KafkaError.Code]) throws(KafkaError) {
    guard !errors.isEmpty else { return }
    let codes = errors.map(\.cValue)
    try withCluster("push \(apiKey) errors") { mock in
      // The variadic rd_kafka_mock_push_request_errors cannot be called from Swift.
      codes.withUnsafeBufferPointer { buffer in
        rd_kafka_mock_push_request_errors_array(mock, apiKey.rawValue, buffer.count, buffer.baseAddress)
      }
      return RD_KAFKA_RESP_ERR_NO_ERROR
    }
  }

  /// Forgets the errors pushed for `apiKey` that no request has consumed yet.
  public func clearRequestErrors(apiKey: KafkaAPIKey) throws(KafkaError) {
    try withCluster("clear \(apiKey) errors") { mock in
      rd_kafka_mock_clear_request_errors(mock, apiKey.rawValue)
      return RD_KAFKA_RESP_ERR_NO_ERROR
    }
  }

  /// True until `destroy` or `close` has run.
  public var isRunning: Bool { cluster.withLock { $0 != nil } }

  /// Stops every broker and frees the cluster; later calls throw `closed`. Idempotent.
  /// Blocks while librdkafka joins its threads: from async code use `close()`.
  public func destroy() {
    let mock = cluster.withLock { mock in
      defer { mock = nil }
      return mock
    }
    guard let mock else { return }
    rd_kafka_mock_cluster_destroy(mock.raw)
    client.destroy()
  }

  /// `destroy()` on a thread of its own, not waited for: for a `defer` in async code,
  /// which cannot await `close()`. Destroying a cluster whose clients are still
  /// connected can block for seconds, and on a 2-core machine the cooperative pool has
  /// two threads: blocking one stalls every task of the process.
  public func destroyInBackground() {
    Thread.detachNewThread { self.destroy() }
  }

  /// `destroy()` on a thread of its own, so the cooperative pool never blocks on it.
  public func close() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      Thread.detachNewThread {
        self.destroy()
        continuation.resume()
      }
    }
  }

  deinit {
    // Safety net for a cluster dropped without close: free it off whatever thread
    // released the last reference (possibly one of the cooperative pool).
    let mock = cluster.withLock { mock in
      defer { mock = nil }
      return mock
    }
    guard let mock else { return }
    let client = self.client
    Thread.detachNewThread {
      rd_kafka_mock_cluster_destroy(mock.raw)
      client.destroy()
    }
  }

  private func checkBroker(_ id: Int32) throws(KafkaError) {
    guard brokerIDs.contains(id) else {
      throw KafkaError(
        code: KafkaError.Code(RD_KAFKA_RESP_ERR__UNKNOWN_BROKER),
        message: "no broker \(id) in this cluster (brokers: \(brokerIDs.map(String.init).joined(separator: ",")))",
        isRetriable: false)
    }
  }

  private func withCluster(
    _ what: String, _ body: (OpaquePointer) -> rd_kafka_resp_err_t
  ) throws(KafkaError) {
    let err: rd_kafka_resp_err_t? = cluster.withLock { mock in mock.map { body($0.raw) } }
    guard let err else { throw KafkaError.closed("the embedded Kafka cluster") }
    guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError.from(err, context: "cannot \(what)") }
  }
}

/// The `rd_kafka_mock_cluster_t` pointer. librdkafka serialises every call on it through
/// the mock cluster's own thread, so handing it between threads is safe.
private struct MockClusterPointer: @unchecked Sendable {
  let raw: OpaquePointer
}
