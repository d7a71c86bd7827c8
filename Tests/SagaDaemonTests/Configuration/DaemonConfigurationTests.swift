import Foundation
import Logging
import SagaKafka
import SagaTestSupport
import Testing

@testable import SagaDaemon

@Suite("sagad configuration: catalog, durations, unknown keys", .timeLimit(.minutes(2)))
struct DaemonConfigurationTests {
  private func load(file yaml: String? = nil, dev: Bool = true, _ environment: [String: String] = [:])
    async throws(DaemonConfiguration.Invalid) -> DaemonConfiguration
  {
    var path: String?
    let directory = try? TemporaryDirectory()
    if let yaml, let directory {
      path = directory.path + "/sagad.yaml"
      try? Data(yaml.utf8).write(to: URL(fileURLWithPath: path!))
    }
    return try await DaemonConfiguration.load(file: path, dev: dev, environment: environment)
  }

  /// The key an invalid configuration is refused for, or nil if it was accepted.
  private func refusedKey(file yaml: String? = nil, _ environment: [String: String] = [:]) async -> String? {
    do {
      _ = try await load(file: yaml, environment)
      return nil
    } catch {
      return error.key
    }
  }

  @Test("durations: 500ms, 1s, 2m, 1h, 7d, plain and fractional seconds; nonsense is refused")
  func durations() {
    #expect(DurationParsing.parse("500ms") == .milliseconds(500))
    #expect(DurationParsing.parse("1s") == .seconds(1))
    #expect(DurationParsing.parse("2m") == .seconds(120))
    #expect(DurationParsing.parse("1h") == .seconds(3600))
    #expect(DurationParsing.parse("7d") == .seconds(7 * 86_400))
    #expect(DurationParsing.parse("30") == .seconds(30))
    #expect(DurationParsing.parse("0.25") == .milliseconds(250))
    #expect(DurationParsing.parse(" 1.5s ") == .milliseconds(1500))
    for bad in ["", "s", "-1s", "1x", "1e3", "nan", "inf", "1..2", "ms"] {
      #expect(DurationParsing.parse(bad) == nil, "\(bad)")
    }
    #expect(DurationParsing.format(.milliseconds(250)) == "250ms")
    #expect(DurationParsing.format(.seconds(90)) == "90s")
    #expect(DurationParsing.format(.seconds(120)) == "2m")
    #expect(DurationParsing.format(.seconds(86_400)) == "1d")
  }

  @Test("every catalog key has a unique name, a summary, and an environment name")
  func catalog() {
    let names = DaemonConfigKey.all.map(\.name)
    #expect(Set(names).count == names.count)
    for key in DaemonConfigKey.all {
      #expect(!key.summary.isEmpty, "\(key.name)")
      #expect(key.environmentName.hasPrefix("SAGAD_"))
    }
    #expect(DaemonConfigKey.named("kafka.brokers")?.environmentName == "SAGAD_KAFKA_BROKERS")
    #expect(DaemonConfigKey.named("log.level")?.reloadable == true)
    #expect(DaemonConfigKey.named("roles")?.reloadable == false)
  }

  @Test("a file sets typed values; the environment wins over it; durations take either form")
  func fileAndEnvironment() async throws {
    let yaml = """
      kafka:
        brokers: k1:9092,k2:9092
        consumer:
          fetch.wait.max.ms: 50
      roles: [points]
      consumer:
        batch_max: 200
        poll_timeout: 250ms
      retry:
        attempts: 5
        initial_delay: 2s
        max_delay: 2m
        multiplier: 3
      shutdown:
        timeout: 45
      metrics:
        listen: 0.0.0.0:9999
      storage:
        synchronous: normal
      log:
        level: debug
      """
    let configuration = try await load(
      file: yaml, dev: false, ["SAGAD_CONSUMER_BATCH_MAX": "300", "SAGAD_KAFKA_PRODUCER_LINGER_MS": "5"])
    #expect(configuration.node.bootstrapServers == "k1:9092,k2:9092")
    #expect(configuration.node.roles == [.points])
    #expect(configuration.node.consume.batchMax == 300)
    #expect(configuration.node.consume.pollTimeout == .milliseconds(250))
    #expect(configuration.node.consumerProperties == ["fetch.wait.max.ms": "50"])
    #expect(configuration.node.producerProperties == ["linger.ms": "5"])
    #expect(configuration.node.synchronous == .normal)
    #expect(configuration.node.retry.attempts == 5)
    #expect(configuration.node.retry.initialDelay == .seconds(2))
    #expect(configuration.node.retry.maxDelay == .seconds(120))
    #expect(configuration.node.retry.multiplier == 3)
    #expect(configuration.shutdownTimeout == .seconds(45))
    #expect(configuration.metrics.host == "0.0.0.0" && configuration.metrics.port == 9999)
    #expect(configuration.logLevel == .debug)
    #expect(configuration.node.failpointsEnabled == false)
    #expect(configuration.value(of: "consumer.batch_max") == "300")
    #expect(configuration.effective.first { $0.key == "consumer.batch_max" }?.source == "SAGAD_CONSUMER_BATCH_MAX")
    #expect(configuration.effective.first { $0.key == "retry.max_delay" }?.source == "file")
    #expect(configuration.effective.first { $0.key == "sweeper.interval" }?.source == "default")
  }

  @Test("--dev defaults: embedded Kafka, ./.sagad, failpoints on, 30 s shutdown, metrics on port 0")
  func devDefaults() async throws {
    let configuration = try await load()
    #expect(configuration.embeddedBroker)
    #expect(configuration.node.stateDirectory == ".sagad")
    #expect(configuration.node.failpointsEnabled)
    #expect(configuration.shutdownTimeout == .seconds(30))
    #expect(configuration.metrics.port == 0)  // several dev daemons side by side (metrics-address file)
    #expect(configuration.effective.count == DaemonConfigKey.all.count)
  }

  @Test("an unknown key in the file is refused by name, with a suggestion")
  func unknownFileKey() async throws {
    do {
      _ = try await load(file: "consumer:\n  batchmax: 3\n")
      Issue.record("consumer.batchmax was accepted")
    } catch {
      #expect(error.key == "consumer.batchmax")
      #expect(error.reason.contains("unknown key"))
      #expect(error.reason.contains("consumer.batch_max"))
    }
    #expect(await refusedKey(file: "colour: blue\n") == "colour")
    #expect(await refusedKey(file: "roles:\n  payments: true\n") == "roles.payments")
    // An empty section is not a key; librdkafka properties pass through.
    #expect(await refusedKey(file: "admin:\nkafka:\n  producer:\n    linger.ms: 5\n") == nil)
  }

  @Test("an unknown SAGAD_* variable is refused; sagactl's SAGAD_SOCKET is not a key")
  func unknownEnvironment() async {
    #expect(await refusedKey(["SAGAD_RETRY_ATTEMPT": "3"]) == "SAGAD_RETRY_ATTEMPT")
    #expect(await refusedKey(["SAGAD_SOCKET": "/tmp/x.sock", "OTHER_VARIABLE": "1"]) == nil)
    #expect(await refusedKey(["SAGAD_KAFKA_CONSUMER_FETCH_MIN_BYTES": "1"]) == nil)
  }

  @Test("invalid values name their key")
  func invalidValues() async {
    let cases: [(String, String, String)] = [
      ("SAGAD_CONSUMER_BATCH_MAX", "0", "consumer.batch_max"),
      ("SAGAD_CONSUMER_POLL_TIMEOUT", "soon", "consumer.poll_timeout"),
      ("SAGAD_SHUTDOWN_TIMEOUT", "0s", "shutdown.timeout"),
      ("SAGAD_RETRY_JITTER", "1.5", "retry.jitter"),
      ("SAGAD_RETRY_IN_PLACE_ATTEMPTS", "9", "retry.in_place_attempts"),
      ("SAGAD_STORAGE_SYNCHRONOUS", "sometimes", "storage.synchronous"),
      ("SAGAD_METRICS_LISTEN", "localhost", "metrics.listen"),
      ("SAGAD_FAILPOINTS_ENABLED", "maybe", "failpoints.enabled"),
      ("SAGAD_LOG_LEVEL", "loud", "log.level"),
      ("SAGAD_ROLES", "payments,ledger", "roles"),
      ("SAGAD_KAFKA_CLIENT_ID", "a b", "kafka.client_id"),
      ("SAGAD_PEERS_POINTS", "camel", "peers.points"),
      ("SAGAD_SPRING_TYPE_ID_COMPENSATE_PAYMENT", "Compensate-Payment", "spring.type_id.compensate_payment"),
      ("SAGAD_SPRING_TYPE_PACKAGE", "com..example", "spring.type_package"),
      ("SAGAD_TRACING_OTLP_ENDPOINT", "collector:4318", "tracing.otlp.endpoint"),
      ("SAGAD_TRACING_SAMPLE_RATIO", "1.5", "tracing.sample_ratio"),
      ("SAGAD_TRACING_MAX_QUEUE", "0", "tracing.max_queue"),
    ]
    for (variable, value, key) in cases {
      #expect(await refusedKey([variable: value]) == key, "\(variable)=\(value)")
    }
    #expect(await refusedKey(file: "consumer:\n  batch_max: [1, 2]\n") == "consumer.batch_max")
    #expect(await refusedKey(file: "- a\n- b\n") == "--config")
  }

  @Test("tracing.*: off by default; an endpoint is a base URL, spans go to its /v1/traces")
  func tracing() async throws {
    let defaults = try await load()
    #expect(defaults.tracing == TracingSettings())
    #expect(defaults.tracing.endpoint == nil)
    let set = try await load([
      "SAGAD_TRACING_OTLP_ENDPOINT": "http://collector:4318", "SAGAD_TRACING_SAMPLE_RATIO": "0.25",
      "SAGAD_TRACING_SERVICE_NAME": "sagad-eu",
    ])
    #expect(set.tracing.endpoint == "http://collector:4318")
    #expect(set.tracing.sampleRatio == 0.25)
    #expect(set.tracing.serviceName == "sagad-eu")
    #expect(TracingBackend.tracesURL("http://collector:4318") == "http://collector:4318/v1/traces")
    #expect(TracingBackend.tracesURL("http://collector:4318/") == "http://collector:4318/v1/traces")
    #expect(TracingBackend.tracesURL("https://c/v1/traces") == "https://c/v1/traces")
  }

  @Test("peers.* and spring.*: the settings the interop with the report's Spring services needs")
  func springInterop() async throws {
    let defaults = try await load()
    #expect(defaults.node.pointsPeer == .sagad && defaults.node.paymentsPeer == .sagad)
    #expect(defaults.node.relay.typeIds == .standard)
    let configured = try await load(
      file: """
        peers:
          points: spring
          payments: spring
        spring:
          type_package: kr.example.shared.domain.event
          type_id:
            compensate_payment: kr.example.payments.CompensatePaymentEvent
        """)
    #expect(configured.node.pointsPeer == .spring && configured.node.paymentsPeer == .spring)
    let typeIds = configured.node.relay.typeIds
    #expect(
      typeIds.typeId(for: .reservationCompleted) == "kr.example.shared.domain.event.ReservationCompletedKafkaEvent")
    #expect(typeIds.typeId(for: .compensatePayment) == "kr.example.payments.CompensatePaymentEvent")
    let off = try await load(["SAGAD_SPRING_TYPE_HEADERS": "false"])
    #expect(!off.node.relay.typeIds.isEnabled)
  }

  @Test("check-config shows no secret: SASL password, OAuth token and key paths are redacted, errors too")
  func secretsAreRedacted() async throws {
    let loaded = try await load([
      "SAGAD_KAFKA_PRODUCER_SASL_PASSWORD": "hunter2", "SAGAD_KAFKA_CONSUMER_SASL_OAUTHBEARER_CONFIG": "tok=abc123",
      "SAGAD_KAFKA_PRODUCER_SASL_USERNAME": "sagad",
    ])
    let report = CheckConfigCommand.report(loaded)
    #expect(!report.contains("hunter2") && !report.contains("abc123"), "\(report)")
    #expect(report.contains("sasl.password=<redacted>"))
    #expect(report.contains("sasl.username=sagad"), "not a secret, still shown")
    // The running value is kept for the reload's change detection.
    #expect(loaded.effective.first { $0.key == "kafka.producer" }?.value.contains("hunter2") == true)
    for name in ["kafka.producer.sasl.password", "ssl.key.location", "sasl.oauthbearer.config", "client_secret"] {
      #expect(DaemonConfigKey.isSecret(name), "\(name)")
    }
    #expect(!DaemonConfigKey.isSecret("kafka.brokers") && !DaemonConfigKey.isSecret("sasl.username"))
  }

  @Test("kafka.security.* reaches every client; the password comes from a file and is never shown")
  func kafkaSecurity() async throws {
    let directory = try TemporaryDirectory()
    let passwordFile = directory.path + "/sasl-password"
    try "s3cret-pass\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
    // A self-signed CA made for this test (openssl req -x509, P-256): librdkafka loads it at creation.
    let ca = directory.path + "/ca.pem"
    try """
    -----BEGIN CERTIFICATE-----
    MIIBhzCCAS2gAwIBAgIUFIYCniw5BXYdHoaa2Pw20Wkdm60wCgYIKoZIzj0EAwIw
    GDEWMBQGA1UEAwwNc2FnYWQtdGVzdC1jYTAgFw0yNjEyMDQwNjQ4MjFaGA8yMTI2
    MTExMDA2NDgyMVowGDEWMBQGA1UEAwwNc2FnYWQtdGVzdC1jYTBZMBMGByqGSM49
    AgEGCCqGSM49AwEHA0IABMK6erSHSL9FDN5A7sAOXyoO92zTxX2sWx9w4NtUAnaF
    htWDr8o5FgeYyFOSaASOK3DXJDsryZdF82HdYUByWo+jUzBRMB0GA1UdDgQWBBRB
    le/Ls7PVYDNeqX8WxMlhddGL0TAfBgNVHSMEGDAWgBRBle/Ls7PVYDNeqX8WxMlh
    ddGL0TAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIBLXRZ1tYwMU
    hbym6cSew6gyZvhDabZjdqaKUtUm8PMIAiEA/BkVefkLuIlmouFuxAZU1HwjnMAG
    JG8dcH9cumoCNdA=
    -----END CERTIFICATE-----
    """.write(toFile: ca, atomically: true, encoding: .utf8)
    let loaded = try await load(
      file: """
        kafka:
          security:
            protocol: sasl_ssl
            sasl_mechanism: SCRAM-SHA-512
            sasl_username: sagad
            sasl_password_file: \(passwordFile)
            ssl_ca_location: \(ca)
          consumer:
            sasl.username: other
        """)
    for properties in [loaded.node.producerProperties, loaded.node.consumerProperties] {
      #expect(properties["security.protocol"] == "sasl_ssl")
      #expect(properties["sasl.mechanisms"] == "SCRAM-SHA-512")
      #expect(properties["sasl.password"] == "s3cret-pass")
      #expect(properties["ssl.ca.location"] == ca)
    }
    #expect(loaded.node.consumerProperties["sasl.username"] == "other", "kafka.consumer wins over security")
    #expect(loaded.node.producerProperties["sasl.username"] == "sagad")
    #expect(!CheckConfigCommand.report(loaded).contains("s3cret-pass"))
    // librdkafka accepts every property (a client is created; it would connect lazily).
    var producer = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:9")
    producer.overrides = loaded.node.producerProperties
    let client = try KafkaProducer(configuration: producer, logger: Logger(label: "security-test"))
    await client.close(timeout: .milliseconds(100))

    #expect(
      await refusedKey(file: "kafka:\n  security:\n    sasl_password_file: /nonexistent\n")
        == "kafka.security.sasl_password_file")
    #expect(
      await refusedKey(file: "kafka:\n  security:\n    sasl_username: sagad\n") == "kafka.security.protocol")
    #expect(await refusedKey(["SAGAD_KAFKA_SECURITY_SASL_MECHANISM": "GSSAPI"]) == "kafka.security.sasl_mechanism")
  }
}
