import ArgumentParser
import Foundation
import Logging
import SagaCore
import SagaKafka
import UnixSignals

/// `sagad dev-broker`: librdkafka's in-memory mock cluster as a standalone process, so
/// several processes (sagad, kcat, a second sagad, tests) can share one Kafka.
///
/// Output contract: the first stdout line is `bootstrap=<host:port,…>`; after it, one
/// reply line per control line read from stdin. Everything for humans goes to stderr.
struct DevBrokerCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dev-broker",
    abstract: "Run an in-memory Kafka cluster with every saga topic (development only).",
    discussion: """
      Starts librdkafka's mock cluster on loopback ports and creates every saga topic and its \
      .DLT topic. The first line on stdout is `bootstrap=<host:port,...>`. Control lines on stdin: \
      `down <id>`, `up <id>` (take a broker down or up); `errors <api> <count> [<error>]` (the next \
      <count> requests of <api> - produce, fetch, list-offsets, offset-commit, offset-fetch, \
      find-coordinator, join-group, heartbeat, leave-group, sync-group, init-producer-id - fail with \
      librdkafka's error <error>, e.g. REQUEST_TIMED_OUT or _TRANSPORT (drop the connection); by default \
      NOT_LEADER_FOR_PARTITION for produce/fetch/list-offsets, REQUEST_TIMED_OUT otherwise); \
      `clear-errors <api|all>`; `leader <topic|all> <partition|all> <id>` (move partition \
      leadership); `rtt <id|all> <ms>` (delay responses); `status`, `help`, `quit`. Each is answered \
      with one `ok ...` or `error ...` line. End of input does not stop the broker (so it can run \
      in the background with </dev/null) unless --stop-at-end-of-input is given; SIGTERM, SIGINT or `quit` do, with exit status 0. \
      Data lives in memory only and each partition keeps only a few MB.
      """
  )

  @Option(help: "Number of mock brokers (ids 1...N).")
  var brokers: Int = 1

  // Three partitions: enough for two consumers of one group to split them and for
  // per-key ordering to matter, few enough to keep the mock's memory small.
  @Option(help: "Partitions of every topic.")
  var partitions: Int32 = 3

  @Option(help: "Also write the bootstrap string to this file (atomically, removed on exit).")
  var bootstrapFile: String?

  @Option(
    name: .customLong("topic"),
    help: ArgumentHelp(
      "Also create this topic (repeatable), with --partitions partitions unless given.",
      valueName: "name[:partitions]"))
  var extraTopics: [String] = []

  @Flag(help: "Stop at end of stdin, so the broker dies with a parent that pipes its input (tests).")
  var stopAtEndOfInput = false

  @OptionGroup var logging: LoggingOptions

  func validate() throws {
    guard (1...16).contains(brokers) else { throw ValidationError("--brokers must be between 1 and 16") }
    guard (1...256).contains(partitions) else { throw ValidationError("--partitions must be between 1 and 256") }
    _ = try parsedExtraTopics()
  }

  /// `--topic` values as (name, partitions), checked: a name once, not a catalog topic.
  func parsedExtraTopics() throws -> [(name: String, partitions: Int32)] {
    var seen = Set(TopicCatalog.allTopics)
    return try extraTopics.map { spec in
      let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
      let count = parts.count == 2 ? Int32(parts[1]) : partitions
      guard let name = parts.first, !name.isEmpty, parts.count <= 2, let count, (1...256).contains(count) else {
        throw ValidationError("--topic \(spec): expected name or name:partitions (1-256)")
      }
      guard seen.insert(name).inserted else {
        throw ValidationError("--topic \(name): already created (a catalog topic or given twice)")
      }
      return (name, count)
    }
  }

  func run() async throws {
    let logger = logging.bootstrap(label: "sagad.dev-broker")
    // Trapped before the cluster exists, so they reach `stops` instead of killing the
    // process; a vanished stdout reader must not kill us either.
    signal(SIGPIPE, SIG_IGN)
    let (stops, stop) = AsyncStream.makeStream(of: String.self)
    let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
    let forwarding = Task {
      for await signal in signals { stop.yield("\(signal)") }
    }
    defer { forwarding.cancel() }

    standardError(
      "sagad dev-broker: IN-MEMORY MOCK KAFKA CLUSTER (librdkafka mock) FOR DEVELOPMENT AND TESTS ONLY. "
        + "Nothing is persisted; partitions keep only a few MB. Never point production at it.")
    if let bootstrapFile { removeStale(bootstrapFile, logger: logger) }
    let broker = try DevBroker(
      brokers: brokers, partitions: partitions, extraTopics: try parsedExtraTopics(), logger: logger)
    let bootstrap = broker.cluster.bootstrapServers
    standardOutput("bootstrap=\(bootstrap)")
    if let bootstrapFile {
      do {
        // .atomic writes a temporary file in the same directory and renames it, so a
        // script polling for the file never reads half of it.
        try Data((bootstrap + "\n").utf8).write(to: URL(fileURLWithPath: bootstrapFile), options: .atomic)
      } catch {
        await broker.cluster.close()
        throw ValidationError("cannot write --bootstrap-file \(bootstrapFile): \(error)")
      }
    }
    standardError(
      """
      sagad dev-broker: \(brokers) broker(s), \(TopicCatalog.allTopics.count) saga topics with \(partitions) \
      partition(s) each and \(extraTopics.count) more, bootstrap \(bootstrap)
        try:   kcat -L -b \(bootstrap)
        stdin: \(DevBroker.commandSummary)   (SIGTERM or SIGINT also stop it)
      """)

    readControlLines(broker: broker, stop: stop, logger: logger)
    var reason = "end of stop events"
    for await event in stops {
      reason = event
      break
    }
    logger.info("dev-broker stopping", metadata: ["reason": "\(reason)"])
    await broker.cluster.close()
    if let bootstrapFile { try? FileManager.default.removeItem(atPath: bootstrapFile) }
    standardError("sagad dev-broker: stopped (\(reason))")
  }

  /// Reads control lines on a thread of its own: `readLine` blocks, and must not hold a
  /// thread of the cooperative pool. End of input only ends the reading.
  private func readControlLines(
    broker: DevBroker, stop: AsyncStream<String>.Continuation, logger: Logger
  ) {
    let stopAtEnd = stopAtEndOfInput
    Thread.detachNewThread {
      while let line = readLine(strippingNewline: true) {
        guard let (reply, quit) = broker.handle(line) else { continue }
        standardOutput(reply)
        if quit {
          stop.yield("quit")
          return
        }
      }
      if stopAtEnd {
        stop.yield("end of input")
      } else {
        logger.info("stdin closed: no more control lines; stop the broker with SIGTERM or SIGINT")
      }
    }
  }

  /// A bootstrap file left by an earlier run would point a waiting script at a dead broker.
  private func removeStale(_ path: String, logger: Logger) {
    guard FileManager.default.fileExists(atPath: path) else { return }
    logger.notice("removing stale bootstrap file", metadata: ["path": "\(path)"])
    try? FileManager.default.removeItem(atPath: path)
  }
}
