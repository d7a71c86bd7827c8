import Foundation
import Logging
import SagaCore
import SagaKafka
import Synchronization

/// The running dev broker: an `EmbeddedKafkaCluster` with every catalog topic, and the
/// stdin control protocol. One request line in, one reply line out (`ok …` or
/// `error …`), so a test or script can drive it through a pipe.
final class DevBroker: Sendable {
  static let commandSummary = "down <broker-id>, up <broker-id>, status, help, quit"

  let cluster: EmbeddedKafkaCluster
  let partitions: Int32
  let topicCount: Int
  private let downBrokers = Mutex<Set<Int32>>([])

  /// Starts the cluster and creates every topic of `TopicCatalog.allTopics`, then
  /// `extraTopics` (e.g. a benchmark's own topics).
  init(
    brokers: Int, partitions: Int32, extraTopics: [(name: String, partitions: Int32)] = [], logger: Logger
  ) throws(KafkaError) {
    let cluster = try EmbeddedKafkaCluster(brokers: brokers, logger: logger)
    // Replicas only matter to clients reading metadata (the mock has no real
    // replication), but three on a multi-broker cluster looks like production.
    let replicationFactor = Int32(min(brokers, 3))
    do {
      for topic in TopicCatalog.allTopics {
        try cluster.createTopic(topic, partitions: partitions, replicationFactor: replicationFactor)
      }
      for topic in extraTopics {
        try cluster.createTopic(topic.name, partitions: topic.partitions, replicationFactor: replicationFactor)
      }
    } catch {
      cluster.destroy()
      throw error
    }
    self.cluster = cluster
    self.partitions = partitions
    self.topicCount = TopicCatalog.allTopics.count + extraTopics.count
  }

  /// What a control line asks for.
  enum Command: Equatable {
    case down(Int32)
    case up(Int32)
    case status
    case help
    case quit
  }

  /// Parses one control line; nil for a blank line, a usage message for anything else
  /// that is not a command.
  static func parse(_ line: String) -> Result<Command, UsageError>? {
    let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
    guard let verb = words.first?.lowercased() else { return nil }
    let arguments = words.dropFirst()
    switch verb {
    case "down", "up":
      guard arguments.count == 1, let id = Int32(arguments.first!) else {
        return .failure(UsageError("usage: \(verb) <broker-id>"))
      }
      return .success(verb == "down" ? .down(id) : .up(id))
    case "status", "help", "quit":
      guard arguments.isEmpty else { return .failure(UsageError("usage: \(verb) (takes no arguments)")) }
      return .success(verb == "status" ? .status : verb == "help" ? .help : .quit)
    default:
      return .failure(UsageError("unknown command '\(verb)' (commands: \(commandSummary))"))
    }
  }

  struct UsageError: Error, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
  }

  /// Carries out one control line and returns its reply line, and whether to quit.
  func handle(_ line: String) -> (reply: String, quit: Bool)? {
    switch Self.parse(line) {
    case nil:
      return nil
    case .failure(let usage):
      return ("error \(usage.message)", false)
    case .success(let command):
      return execute(command)
    }
  }

  private func execute(_ command: Command) -> (reply: String, quit: Bool) {
    do throws(KafkaError) {
      switch command {
      case .down(let id):
        try cluster.setBrokerDown(id)
        downBrokers.withLock { _ = $0.insert(id) }
        return ("ok down \(id)", false)
      case .up(let id):
        try cluster.setBrokerUp(id)
        downBrokers.withLock { _ = $0.remove(id) }
        return ("ok up \(id)", false)
      case .status:
        return ("ok \(status)", false)
      case .help:
        return ("ok commands: \(Self.commandSummary)", false)
      case .quit:
        return ("ok quit", true)
      }
    } catch {
      return ("error \(error.message)", false)
    }
  }

  /// `bootstrap=… brokers=1,2,3 down=2 partitions=3 topics=10`, one line (`partitions`:
  /// of the saga topics; `topics`: every topic created at start).
  var status: String {
    let down = downBrokers.withLock { $0.sorted() }
    return [
      "bootstrap=\(cluster.bootstrapServers)",
      "brokers=\(cluster.brokerIDs.map(String.init).joined(separator: ","))",
      "down=\(down.isEmpty ? "none" : down.map(String.init).joined(separator: ","))",
      "partitions=\(partitions)",
      "topics=\(topicCount)",
    ].joined(separator: " ")
  }
}
