import Logging
import SagaRuntime

/// At start, before any consumer exists: whether the brokers are librdkafka's mock cluster
/// (`RuntimeSettings.mockCluster`), whose empty fetches wait the whole fetch wait, so that
/// the consumers get the shorter wait made for it (Docs/configuration.md, `kafka.consumer.*`).
enum MockClusterCheck {
  /// - Parameters:
  ///   - embedded: the cluster runs in this process (`kafka.brokers: embedded`): it is the mock.
  ///   - configured: `kafka.consumer.*`; a configured fetch wait makes the answer moot, so
  ///     nothing is asked.
  ///   - probe: asked once (its timeout, 2 s) otherwise; a cluster that does not answer
  ///     counts as a real one, whose defaults also work against the mock.
  static func run(
    embedded: Bool, configured: [String: String], probe: BrokerProbe, logger: Logger
  ) async -> Bool {
    if embedded { return true }
    if configured["fetch.wait.max.ms"] != nil { return false }
    switch await probe.askMockCluster() {
    case true?:
      logger.notice(
        "the brokers are librdkafka's mock cluster (a development broker): consumers use the shorter fetch wait made for it",
        metadata: ["fetch.wait.max.ms": "\(RuntimeSettings.mockClusterConsumerProperties["fetch.wait.max.ms"] ?? "")"])
      return true
    case false?:
      return false
    case nil:
      logger.info(
        "Kafka did not answer at start; consumers use the default fetch wait",
        metadata: ["error": "\(probe.snapshot.lastError ?? "")"])
      return false
    }
  }
}
