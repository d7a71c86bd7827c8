import Foundation
import Logging
import Payments
import Points
import SagaCore
import SagaDaemon
import SagaKafka
import SagaRuntime
import SagaTestSupport
import Testing

/// The saga in one process for the flow tests: a `SagaNode` on its own embedded cluster
/// (every saga topic created) and a temporary state directory.
final class SagaHarness: Sendable {
  static let logger: Logger = {
    var logger = Logger(label: "saga-harness")
    logger.logLevel = .critical
    return logger
  }()

  let cluster: EmbeddedKafkaCluster
  let node: SagaNode
  let directory: TemporaryDirectory

  private init(cluster: EmbeddedKafkaCluster, node: SagaNode, directory: TemporaryDirectory) {
    self.cluster = cluster
    self.node = node
    self.directory = directory
  }

  /// Runs `body` against a running node, then stops the node and the cluster, also when
  /// `body` throws. `configure` adjusts the configuration (it starts with a short session
  /// timeout, so that groups rebalance quickly); `prepare` runs before the node starts.
  static func run(
    roles: Set<SagaNodeConfiguration.Role> = [.payments, .points], partitions: Int32 = 3,
    configure: (inout SagaNodeConfiguration) -> Void = { _ in },
    prepare: (SagaHarness) async throws -> Void = { _ in },
    _ body: (SagaHarness) async throws -> Void
  ) async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: logger)
    let harness: SagaHarness
    do {
      for topic in TopicCatalog.allTopics { try cluster.createTopic(topic, partitions: partitions) }
      let directory = try TemporaryDirectory()
      var configuration = SagaNodeConfiguration(
        stateDirectory: directory.path, bootstrapServers: cluster.bootstrapServers)
      configuration.roles = roles
      configuration.consumerProperties = ["session.timeout.ms": "4000", "heartbeat.interval.ms": "500"]
      configure(&configuration)
      let node = try SagaNode(configuration: configuration, logger: logger)
      harness = SagaHarness(cluster: cluster, node: node, directory: directory)
    } catch {
      await cluster.close()
      throw error
    }
    var task: Task<Void, any Error>?
    do {
      try await prepare(harness)
      let node = harness.node
      task = Task { try await node.run() }
      try await body(harness)
    } catch {
      await harness.stop(task)
      throw error
    }
    await harness.stop(task)
  }

  /// Ends the node's run, then the cluster; the directory goes with the harness.
  private func stop(_ task: Task<Void, any Error>?) async {
    task?.cancel()
    _ = try? await task?.value
    await cluster.close()
  }

  var payments: PaymentsService { node.payments! }
  var points: PointsService { node.points! }

  func waitForTerminal(_ paymentId: Int64) async throws -> PaymentView {
    var view: PaymentView?
    try await eventually("payment \(paymentId) to reach a terminal state", timeout: .seconds(60)) {
      view = try await payments.payment(id: paymentId)
      return view?.status.isTerminal == true
    }
    return view!
  }
}
