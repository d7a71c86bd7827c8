import Foundation
import SagaCore
import SagaKafka
import SagaTestSupport
import Testing

@testable import SagaDaemon

/// `sagad` as a user runs it: the built binary in a child process, observed from the
/// outside (its output, its exit status, and `kcat` as an independent Kafka client).
@Suite("sagad dev-broker", .timeLimit(.minutes(2)))
struct DevBrokerTests {
  @Test("sagad answers --version and --help, and refuses to run without --dev or --config")
  func helpAndVersion() async throws {
    let sagad = try sagadBinary()
    let version = try await run(sagad, ["--version"])
    #expect(version.status == 0)
    #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == SagaCore.version)

    let help = try await run(sagad, ["--help"])
    #expect(help.status == 0)
    #expect(help.stdout.contains("dev-broker") && help.stdout.contains("--log-level"))

    // Without --dev or --config sagad reads /etc/sagad/sagad.yaml; absent here, that is a
    // usage error naming the file, with the usage line that mentions --dev.
    let bare = try await run(sagad, [])
    #expect(bare.status == 64)
    #expect(bare.stderr.contains("/etc/sagad/sagad.yaml") && bare.stderr.contains("--dev"), "\(bare.stderr)")

    let brokerHelp = try await run(sagad, ["dev-broker", "--help"])
    #expect(brokerHelp.status == 0)
    #expect(brokerHelp.stdout.contains("--bootstrap-file") && brokerHelp.stdout.contains("--partitions"))

    let invalid = try await run(sagad, ["dev-broker", "--brokers", "0"])
    #expect(invalid.status == 64, "usage errors exit with EX_USAGE; stderr: \(invalid.stderr)")
    #expect(invalid.stderr.contains("--brokers"))
    for bad in ["reservation-completed", "x:0", "x:y", ":3"] {
      let refused = try await run(sagad, ["dev-broker", "--topic", bad])
      #expect(refused.status == 64, "--topic \(bad): \(refused.stderr)")
    }
  }

  @Test("every catalog topic and its .DLT exist with the asked partition count, as kcat sees them")
  func createsCatalogTopics() async throws {
    let broker = try await DevBrokerProcess.start([
      "--brokers", "2", "--partitions", "4", "--topic", "extra-default", "--topic", "extra-two:2",
    ])
    defer { broker.cleanUp() }

    #expect(broker.child.stdout.lines.first == "bootstrap=\(broker.bootstrap)")
    #expect(broker.bootstrap.split(separator: ",").count == 2)
    #expect(broker.child.stderr.text.contains("FOR DEVELOPMENT AND TESTS ONLY"))

    let topics = try await kcatTopics(bootstrap: broker.bootstrap)
    #expect(TopicCatalog.allTopics.count == 10)
    for topic in TopicCatalog.allTopics {
      #expect(topics[topic] == 4, "\(topic) in \(topics)")
    }
    #expect(topics["reservation-completed.DLT"] == 4)
    #expect(topics["extra-default"] == 4 && topics["extra-two"] == 2)
    #expect(topics.count == 12, "nothing else: \(topics.keys.sorted())")

    broker.child.signal(SIGTERM)
    #expect(try await broker.child.waitForExit() == 0)
    #expect(!FileManager.default.fileExists(atPath: broker.bootstrapFile.path), "bootstrap file removed on exit")
  }

  @Test("control lines: down/up take effect, bad lines get an error and the broker keeps running, quit exits 0")
  func controlLines() async throws {
    let broker = try await DevBrokerProcess.start()
    defer { broker.cleanUp() }
    let kcat = try requiredTool("kcat")

    #expect(try await broker.control("status").hasPrefix("ok bootstrap=\(broker.bootstrap) brokers=1 down=none"))
    #expect(try await broker.control("down 1") == "ok down 1")
    // With its only broker down, a client cannot even read metadata.
    let refused = try await run(kcat, ["-L", "-b", broker.bootstrap, "-m", "2"])
    #expect(refused.status != 0, "kcat -L must fail while the broker is down: \(refused.stdout)")
    #expect(try await broker.control("status").contains("down=1"))
    #expect(try await broker.control("up 1") == "ok up 1")
    try await eventually("kcat sees the broker again") {
      (try? await kcatTopics(bootstrap: broker.bootstrap, timeout: .seconds(10)))?.count == 10
    }

    let unknown = try await broker.control("frobnicate now")
    #expect(unknown.hasPrefix("error unknown command 'frobnicate'"))
    #expect(try await broker.control("down 9").hasPrefix("error no broker 9"))
    #expect(try await broker.control("down").hasPrefix("error usage: down <broker-id>"))
    #expect(try await broker.control("up one").hasPrefix("error usage: up <broker-id>"))
    #expect(broker.child.isRunning)
    #expect(try await broker.control("help").hasPrefix("ok commands:"))

    #expect(try await broker.control("quit") == "ok quit")
    #expect(try await broker.child.waitForExit() == 0)
  }

  @Test("fault lines parse: errors with default and named codes, clear-errors, leader, rtt")
  func faultLinesParse() {
    let accepted: [(String, DevBroker.Command)] = [
      ("errors produce 5", .errors(api: .produce, count: 5, error: .notLeader)),
      ("errors offset-commit 3", .errors(api: .offsetCommit, count: 3, error: .requestTimedOut)),
      ("ERRORS Fetch 2 request_timed_out", .errors(api: .fetch, count: 2, error: .requestTimedOut)),
      ("errors heartbeat 1 RD_KAFKA_RESP_ERR__TRANSPORT", .errors(api: .heartbeat, count: 1, error: .transport)),
      ("errors produce 1 NOT_LEADER_OR_FOLLOWER", .errors(api: .produce, count: 1, error: .notLeader)),
      (
        "errors join-group 2 COORDINATOR_NOT_AVAILABLE",
        .errors(api: .joinGroup, count: 2, error: .coordinatorNotAvailable)
      ),
      ("clear-errors offset-commit", .clearErrors([.offsetCommit])),
      ("clear-errors all", .clearErrors(DevBrokerFaultNames.apis.map(\.key))),
      ("leader all all 2", .leader(topic: nil, partition: nil, broker: 2)),
      ("leader reservation-completed 1 3", .leader(topic: "reservation-completed", partition: 1, broker: 3)),
      ("leader compensate-payment all 1", .leader(topic: "compensate-payment", partition: nil, broker: 1)),
      ("rtt all 50", .rtt(broker: nil, milliseconds: 50)),
      ("rtt 2 0", .rtt(broker: 2, milliseconds: 0)),
    ]
    for (line, command) in accepted {
      #expect(DevBroker.parse(line) == .success(command), "\(line)")
    }
    let refused: [(String, String)] = [
      ("errors", "usage: errors <api> <count>"), ("errors produce", "usage: errors <api> <count>"),
      ("errors bogus 1", "unknown api 'bogus'"), ("errors produce 0", "errors: count '0' must be a number"),
      ("errors produce x", "errors: count 'x'"), ("errors produce 100001", "errors: count '100001'"),
      ("errors produce 1 NO_SUCH_ERROR", "unknown error 'NO_SUCH_ERROR'"),
      ("errors produce 1 NO_ERROR", "unknown error 'NO_ERROR'"), ("errors produce 1 2 3", "usage: errors"),
      ("clear-errors", "usage: clear-errors"), ("clear-errors bogus", "unknown api 'bogus'"),
      ("leader all 1 2", "leader all <partition>: with every topic"), ("leader t x 2", "usage: leader"),
      ("leader t -1 2", "usage: leader"), ("leader t 1", "usage: leader"), ("leader t 1 two", "usage: leader"),
      ("rtt 1", "usage: rtt"), ("rtt 1 -5", "usage: rtt"), ("rtt x 5", "usage: rtt"), ("rtt 1 70000", "usage: rtt"),
    ]
    for (line, reason) in refused {
      guard case .failure(let usage) = DevBroker.parse(line) else {
        Issue.record("'\(line)' was accepted")
        continue
      }
      #expect(usage.message.hasPrefix(reason), "\(line): \(usage.message)")
    }
  }

  @Test("fault lines take effect: leaders move as kcat sees them, injected errors fail requests until cleared")
  func faultLinesTakeEffect() async throws {
    let broker = try await DevBrokerProcess.start(["--brokers", "3"])
    defer { broker.cleanUp() }

    #expect(try await broker.control("leader all all 2") == "ok leader 2 partitions=30")
    try await eventually("kcat to see broker 2 lead every partition") {
      let leaders = try await kcatLeaders(bootstrap: broker.bootstrap)
      return leaders.count == 30 && Set(leaders.values) == [2]
    }
    #expect(try await broker.control("leader reservation-completed 1 3") == "ok leader 3 partitions=1")
    try await eventually("kcat to see broker 3 lead reservation-completed[1]") {
      try await kcatLeaders(bootstrap: broker.bootstrap)["reservation-completed/1"] == 3
    }
    #expect(
      try await broker.control("leader reservation-completed 7 1").hasPrefix(
        "error topic reservation-completed has partitions 0-2"))
    #expect(try await broker.control("leader no-such-topic all 1").hasPrefix("error no topic 'no-such-topic'"))
    #expect(try await broker.control("leader all all 9").hasPrefix("error no broker 9"))

    // A permanent error on every produce request: kcat's delivery fails, until cleared.
    let produce = { () async throws -> Int32 in
      try await run(
        try requiredTool("kcat"),
        ["-P", "-b", broker.bootstrap, "-t", "reservation-completed", "-X", "message.timeout.ms=5000"],
        input: "one record\n", timeout: .seconds(30)
      ).status
    }
    #expect(
      try await broker.control("errors produce 1000 TOPIC_AUTHORIZATION_FAILED")
        == "ok errors produce 1000 TOPIC_AUTHORIZATION_FAILED")
    #expect(try await produce() != 0, "kcat -P must fail while every produce request fails")
    #expect(try await broker.control("clear-errors produce") == "ok clear-errors produce")
    #expect(try await produce() == 0)
    #expect(try await broker.control("errors produce 3") == "ok errors produce 3 NOT_LEADER_FOR_PARTITION")
    #expect(try await broker.control("clear-errors all") == "ok clear-errors all")
    #expect(try await broker.control("rtt all 20") == "ok rtt all 20")
    #expect(try await broker.control("rtt 9 5").hasPrefix("error no broker 9"))
    #expect(try await broker.control("errors produce nine").hasPrefix("error errors: count 'nine'"))
    #expect(broker.child.isRunning)
    #expect(try await broker.control("status").hasPrefix("ok bootstrap=\(broker.bootstrap) brokers=1,2,3 down=none"))
    #expect(try await broker.control("quit") == "ok quit")
    #expect(try await broker.child.waitForExit() == 0)
  }

  @Test("with --stop-at-end-of-input, closing stdin stops the broker with status 0")
  func stopsAtEndOfInputWhenAsked() async throws {
    let broker = try await DevBrokerProcess.start()
    defer { broker.cleanUp() }
    try broker.child.closeStdin()
    #expect(try await broker.child.waitForExit() == 0)
    #expect(broker.child.stderr.text.contains("stopped (end of input)"))
  }

  @Test("end of stdin does not stop the broker; SIGINT does, with status 0")
  func survivesEndOfInput() async throws {
    let broker = try await DevBrokerProcess.start(pipeStdin: false)  // stdin is /dev/null
    defer { broker.cleanUp() }
    try await eventually("dev-broker to notice the end of its input") {
      broker.child.stderr.text.contains("stdin closed")
    }
    #expect(try await kcatTopics(bootstrap: broker.bootstrap).count == TopicCatalog.allTopics.count)
    #expect(broker.child.isRunning)

    broker.child.signal(SIGINT)
    #expect(try await broker.child.waitForExit() == 0)
    #expect(broker.child.stderr.text.contains("stopped (SIGINT)"))
  }
}

/// `kcat -L` output as "topic/partition" → leader broker id.
func kcatLeaders(bootstrap: String) async throws -> [String: Int32] {
  let result = try await run(try requiredTool("kcat"), ["-L", "-b", bootstrap, "-m", "10"], timeout: .seconds(30))
  guard result.status == 0 else { throw TestFailure("kcat -L failed (\(result.status)): \(result.stderr)") }
  // Lines look like:   topic "reservation-completed" with 3 partitions:
  //                      partition 0, leader 2, replicas: 2,3,1, isrs: 2,3,1
  var leaders: [String: Int32] = [:]
  var topic = ""
  for line in result.stdout.split(separator: "\n") {
    let parts = line.split(separator: "\"")
    if parts.count == 3, parts[0].trimmingCharacters(in: .whitespaces) == "topic" {
      topic = String(parts[1])
      continue
    }
    let words = line.split(whereSeparator: { $0 == " " || $0 == "," })
    guard words.count >= 4, words[0] == "partition", words[2] == "leader", let leader = Int32(words[3]) else {
      continue
    }
    leaders["\(topic)/\(words[1])"] = leader
  }
  return leaders
}
