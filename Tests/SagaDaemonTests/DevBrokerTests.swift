import Foundation
import SagaCore
import SagaTestSupport
import Testing

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
