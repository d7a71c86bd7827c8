import Foundation
import Logging
import SagaCore
import SagaKafka
import Synchronization

/// The running dev broker: an `EmbeddedKafkaCluster` with every catalog topic, and the
/// stdin control protocol. One request line in, one reply line out (`ok …` or
/// `error …`), so a test or script can drive it through a pipe.
final class DevBroker: Sendable {
  static let commandSummary =
    "down <broker-id>, up <broker-id>, errors <api> <count> [<error>], clear-errors <api|all>, "
    + "leader <topic|all> <partition|all> <broker-id>, rtt <broker-id|all> <ms>, status, help, quit"

  let cluster: EmbeddedKafkaCluster
  let partitions: Int32
  /// Every topic created at start, with its partition count (what `leader all` moves).
  let topics: [(name: String, partitions: Int32)]
  var topicCount: Int { topics.count }
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
    self.topics = TopicCatalog.allTopics.map { ($0, partitions) } + extraTopics
  }

  /// What a control line asks for.
  enum Command: Equatable {
    case down(Int32)
    case up(Int32)
    /// The next `count` requests of `api`, to any broker, fail with `error`.
    case errors(api: KafkaAPIKey, count: Int, error: KafkaError.Code)
    /// Forgets the pending errors of these request types.
    case clearErrors([KafkaAPIKey])
    /// Moves the leadership of a partition (nil: every topic, every partition).
    case leader(topic: String?, partition: Int32?, broker: Int32)
    /// Delays every response of the brokers (nil: all of them) by `milliseconds`.
    case rtt(broker: Int32?, milliseconds: Int32)
    case status
    case help
    case quit
  }

  /// At most this many errors in one `errors` line: enough for any burst, small enough
  /// that a typo cannot make the broker fail requests for hours.
  static let maxErrorCount = 100_000

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
    case "errors":
      return parseErrors(Array(arguments))
    case "clear-errors":
      guard arguments.count == 1, let name = arguments.first else {
        return .failure(UsageError("usage: clear-errors <api|all> (apis: \(DevBrokerFaultNames.apiList))"))
      }
      if name.lowercased() == "all" { return .success(.clearErrors(DevBrokerFaultNames.apis.map(\.key))) }
      guard let api = DevBrokerFaultNames.api(name) else {
        return .failure(UsageError("unknown api '\(name)' (apis: \(DevBrokerFaultNames.apiList))"))
      }
      return .success(.clearErrors([api]))
    case "leader":
      return parseLeader(Array(arguments))
    case "rtt":
      let usage = UsageError("usage: rtt <broker-id|all> <ms> (0 to 60000)")
      guard arguments.count == 2, let ms = Int32(arguments.last!), (0...60_000).contains(ms) else {
        return .failure(usage)
      }
      let target = arguments.first!
      if target.lowercased() == "all" { return .success(.rtt(broker: nil, milliseconds: ms)) }
      guard let id = Int32(target) else { return .failure(usage) }
      return .success(.rtt(broker: id, milliseconds: ms))
    case "status", "help", "quit":
      guard arguments.isEmpty else { return .failure(UsageError("usage: \(verb) (takes no arguments)")) }
      return .success(verb == "status" ? .status : verb == "help" ? .help : .quit)
    default:
      return .failure(UsageError("unknown command '\(verb)' (commands: \(commandSummary))"))
    }
  }

  /// `errors <api> <count> [<error-name>]`.
  private static func parseErrors(_ arguments: [String]) -> Result<Command, UsageError> {
    guard (2...3).contains(arguments.count) else {
      return .failure(
        UsageError("usage: errors <api> <count> [<error-name>] (apis: \(DevBrokerFaultNames.apiList))"))
    }
    guard let api = DevBrokerFaultNames.api(arguments[0]) else {
      return .failure(UsageError("unknown api '\(arguments[0])' (apis: \(DevBrokerFaultNames.apiList))"))
    }
    guard let count = Int(arguments[1]), (1...maxErrorCount).contains(count) else {
      return .failure(UsageError("errors: count '\(arguments[1])' must be a number from 1 to \(maxErrorCount)"))
    }
    guard arguments.count == 3 else {
      return .success(.errors(api: api, count: count, error: DevBrokerFaultNames.defaultError(for: api)))
    }
    guard let error = DevBrokerFaultNames.error(arguments[2]) else {
      return .failure(
        UsageError("unknown error '\(arguments[2])' (librdkafka's names, e.g. REQUEST_TIMED_OUT, _TRANSPORT)"))
    }
    return .success(.errors(api: api, count: count, error: error))
  }

  /// `leader <topic|all> <partition|all> <broker-id>`; whether the topic exists is
  /// checked when it runs.
  private static func parseLeader(_ arguments: [String]) -> Result<Command, UsageError> {
    let usage = UsageError("usage: leader <topic|all> <partition|all> <broker-id>")
    guard arguments.count == 3, let broker = Int32(arguments[2]) else { return .failure(usage) }
    let topic = arguments[0].lowercased() == "all" ? nil : arguments[0]
    let partition: Int32?
    if arguments[1].lowercased() == "all" {
      partition = nil
    } else if let number = Int32(arguments[1]), number >= 0 {
      partition = number
    } else {
      return .failure(usage)
    }
    guard topic != nil || partition == nil else {
      return .failure(UsageError("leader all <partition>: with every topic, the partition must be 'all'"))
    }
    return .success(.leader(topic: topic, partition: partition, broker: broker))
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
      case .errors(let api, let count, let error):
        try cluster.pushRequestErrors(apiKey: api, errors: Array(repeating: error, count: count))
        return ("ok errors \(DevBrokerFaultNames.name(of: api)) \(count) \(error.name)", false)
      case .clearErrors(let apis):
        for api in apis { try cluster.clearRequestErrors(apiKey: api) }
        let names = apis.count == 1 ? DevBrokerFaultNames.name(of: apis[0]) : "all"
        return ("ok clear-errors \(names)", false)
      case .leader(let topic, let partition, let broker):
        let moved = try moveLeaders(topic: topic, partition: partition, broker: broker)
        return ("ok leader \(broker) partitions=\(moved)", false)
      case .rtt(let broker, let milliseconds):
        for id in broker.map({ [$0] }) ?? cluster.brokerIDs {
          try cluster.setBrokerRoundTripTime(id, milliseconds: milliseconds)
        }
        return ("ok rtt \(broker.map(String.init) ?? "all") \(milliseconds)", false)
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

  /// Makes `broker` the leader of the named partitions; returns how many. Unknown topics
  /// and partitions are refused (librdkafka would create the topic).
  private func moveLeaders(topic: String?, partition: Int32?, broker: Int32) throws(KafkaError) -> Int {
    guard cluster.brokerIDs.contains(broker) else {
      throw KafkaError(code: .invalidArgument, message: "no broker \(broker) in this cluster", isRetriable: false)
    }
    var targets: [(topic: String, partition: Int32)] = []
    for created in topics where topic == nil || created.name == topic {
      if let partition, !(0..<created.partitions).contains(partition) {
        throw KafkaError(
          code: .invalidArgument, message: "topic \(created.name) has partitions 0-\(created.partitions - 1)",
          isRetriable: false)
      }
      targets += (0..<created.partitions).filter { partition == nil || $0 == partition }.map { (created.name, $0) }
    }
    guard !targets.isEmpty else {
      throw KafkaError(code: .unknownTopic, message: "no topic '\(topic ?? "")'", isRetriable: false)
    }
    for target in targets {
      try cluster.setPartitionLeader(topic: target.topic, partition: target.partition, broker: broker)
    }
    return targets.count
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
