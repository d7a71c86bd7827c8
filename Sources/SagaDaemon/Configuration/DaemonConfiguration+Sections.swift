import Foundation
import SagaCore
import SagaRuntime
import SagaStorage

/// The per-section readers: each takes its keys from `values` and fills in its part of
/// the configuration; the first invalid value throws, naming its key.
extension DaemonConfiguration {
  /// `tracing.*`: an endpoint must be an http(s) URL.
  static func readTracing(_ values: inout ConfigValues, into tracing: inout TracingSettings) throws(Invalid) {
    if let endpoint = try values.text("tracing.otlp.endpoint")?.trimmingCharacters(in: .whitespaces),
      !endpoint.isEmpty
    {
      guard endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://"), endpoint.count > 8 else {
        throw Invalid(key: "tracing.otlp.endpoint", reason: "must be an http:// or https:// URL, got '\(endpoint)'")
      }
      tracing.endpoint = endpoint
    }
    tracing.sampleRatio = try values.decimal("tracing.sample_ratio") ?? tracing.sampleRatio
    tracing.serviceName = try values.text("tracing.service_name") ?? tracing.serviceName
    guard !tracing.serviceName.isEmpty else { throw Invalid(key: "tracing.service_name", reason: "must not be empty") }
    tracing.maxQueue = try values.integer("tracing.max_queue") ?? tracing.maxQueue
  }

  static func read(_ values: inout ConfigValues, dev: Bool) throws(Invalid) -> DaemonConfiguration {
    let brokers = try values.text("kafka.brokers") ?? (dev ? "embedded" : nil)
    guard let brokers, !brokers.trimmingCharacters(in: .whitespaces).isEmpty else {
      throw Invalid(key: "kafka.brokers", reason: "required: `embedded` or host:port,… (or run with --dev)")
    }
    let stateDirectory = try values.text("state_dir") ?? (dev ? devStateDirectory : "/var/lib/sagad")
    guard !stateDirectory.isEmpty else { throw Invalid(key: "state_dir", reason: "must not be empty") }
    var node = SagaNodeConfiguration(stateDirectory: stateDirectory, bootstrapServers: brokers)
    if let roles = try values.list("roles") {
      var parsed = Set<SagaNodeConfiguration.Role>()
      for role in roles {
        guard let value = SagaNodeConfiguration.Role(rawValue: role) else {
          throw Invalid(key: "roles", reason: "unknown role '\(role)' (payments, points)")
        }
        parsed.insert(value)
      }
      guard !parsed.isEmpty else { throw Invalid(key: "roles", reason: "at least one of payments, points") }
      node.roles = parsed
    }
    try readKafka(&values, into: &node)
    try readProcessing(&values, into: &node)
    node.failpointsEnabled = try values.bool("failpoints.enabled") ?? dev
    node.retry = try retryPolicy(&values)
    node.sweeper.stuckAfter = try values.duration("sweeper.stuck_after") ?? node.sweeper.stuckAfter
    node.sweeper.interval = try values.duration("sweeper.interval") ?? node.sweeper.interval
    node.sweeper.maxRepublish = try values.integer("sweeper.max_republish") ?? node.sweeper.maxRepublish
    node.supervisor.maxRestarts = try values.integer("supervisor.max_restarts") ?? node.supervisor.maxRestarts
    node.supervisor.window = try values.duration("supervisor.window") ?? node.supervisor.window
    if let rate = try values.integer("dlt.replay_rate") { node.deadLetters.replayRate = Double(rate) }
    try readPeers(&values, into: &node)

    var configuration = DaemonConfiguration(
      node: node, admin: try adminSettings(&values, dev: dev, stateDirectory: stateDirectory))
    configuration.embeddedBroker = brokers == "embedded"
    configuration.logLevel = try values.choice("log.level").flatMap(LoggingOptions.Level.init(rawValue:))
    if let text = try values.text("metrics.listen"), ["", "off"].contains(text.trimmingCharacters(in: .whitespaces)) {
      configuration.metrics.enabled = false
    } else if let listen = try values.address("metrics.listen") {
      (configuration.metrics.host, configuration.metrics.port) = listen
    } else if dev {
      // Like the embedded broker's port: several dev daemons (and tests) side by side.
      configuration.metrics.port = 0
    }
    configuration.metrics.maxConnections =
      try values.integer("metrics.max_connections") ?? configuration.metrics.maxConnections
    configuration.metrics.requestTimeout =
      try values.duration("metrics.request_timeout") ?? configuration.metrics.requestTimeout
    configuration.metrics.idleTimeout = try values.duration("metrics.idle_timeout") ?? configuration.metrics.idleTimeout
    try readTracing(&values, into: &configuration.tracing)
    configuration.shutdownTimeout = try values.duration("shutdown.timeout") ?? configuration.shutdownTimeout
    configuration.lagWindow = try values.integer("lag.window") ?? configuration.lagWindow
    configuration.stateDirectoryGroup = try values.text("state_dir_group").flatMap { $0.isEmpty ? nil : $0 }
    do {
      _ = try StatePermissions.resolveGroup(configuration.stateDirectoryGroup)
    } catch {
      throw Invalid(key: "state_dir_group", reason: "no group named '\(configuration.stateDirectoryGroup ?? "")'")
    }
    return configuration
  }

  private static func readKafka(_ values: inout ConfigValues, into node: inout SagaNodeConfiguration)
    throws(Invalid)
  {
    if let interval = try values.duration("kafka.statistics_interval") {
      node.statisticsInterval = interval == .zero ? nil : interval
    }
    let security = try KafkaSecuritySettings.read(&values)
    node.producerProperties = security.applied(to: try values.properties("kafka.producer"))
    node.consumerProperties = security.applied(to: try values.properties("kafka.consumer"))
    if let clientId = try values.text("kafka.client_id") {
      guard !clientId.isEmpty, clientId.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
      else { throw Invalid(key: "kafka.client_id", reason: "'\(clientId)' must be letters, digits, '-', '_' or '.'") }
      node.clientIdPrefix = clientId
    }
  }

  private static func readProcessing(_ values: inout ConfigValues, into node: inout SagaNodeConfiguration)
    throws(Invalid)
  {
    node.consume.batchMax = try values.integer("consumer.batch_max") ?? node.consume.batchMax
    node.consume.pollTimeout = try values.duration("consumer.poll_timeout") ?? node.consume.pollTimeout
    switch try values.choice("storage.synchronous") {
    case "normal": node.synchronous = .normal
    case "full": node.synchronous = .full
    default: break
    }
    node.postgres = try PostgresSettings.read(&values)
    let rate = try values.integer("reward.rate_bp") ?? 1_000
    let unit = try values.integer("reward.unit") ?? 100
    do {
      node.rewardRule = try RewardRule(rateBasisPoints: Int64(rate), unit: Int64(unit))
    } catch {
      throw Invalid(key: "reward.rate_bp", reason: "\(error)")
    }
    node.relay.batchMax = try values.integer("outbox.batch_max") ?? node.relay.batchMax
    node.relay.idleInterval = try values.duration("outbox.idle_interval") ?? node.relay.idleInterval
    node.relay.wakeOnCommit = try values.bool("outbox.wake_on_commit") ?? node.relay.wakeOnCommit
    node.relay.handoff = try values.bool("outbox.handoff") ?? node.relay.handoff
    node.payGroupCommit = try values.bool("payments.group_commit") ?? node.payGroupCommit
    node.payGroupCommitWindow = try values.duration("payments.group_commit_window") ?? node.payGroupCommitWindow
    node.relay.retention.outbox = try values.duration("outbox.retention") ?? node.relay.retention.outbox
    node.relay.retention.inbox = try values.duration("inbox.retention") ?? node.relay.retention.inbox
    node.relay.retention.timeline = try values.duration("timeline.retention") ?? node.relay.retention.timeline
    node.relay.purgeInterval = try values.duration("outbox.purge_interval") ?? node.relay.purgeInterval
  }

  /// `peers.*` and `spring.*`: how to run beside the report's Spring services.
  private static func readPeers(_ values: inout ConfigValues, into node: inout SagaNodeConfiguration)
    throws(Invalid)
  {
    node.pointsPeer = try values.choice("peers.points").flatMap(PeerKind.init(rawValue:)) ?? node.pointsPeer
    node.paymentsPeer = try values.choice("peers.payments").flatMap(PeerKind.init(rawValue:)) ?? node.paymentsPeer
    let package = try values.text("spring.type_package") ?? SpringTypeIds.defaultPackage
    var names: [EventType: String] = [:]
    for type in EventType.allCases {
      names[type] = try values.text(DaemonConfigKey.springTypeIdKey(type))
    }
    let typeIds: SpringTypeIds
    do {
      typeIds = try SpringTypeIds(package: package.trimmingCharacters(in: .whitespaces), classNames: names)
    } catch {
      let key =
        EventType(rawValue: error.field ?? "").map(DaemonConfigKey.springTypeIdKey) ?? "spring.type_package"
      throw Invalid(key: key, reason: error.message)
    }
    node.relay.typeIds = try values.bool("spring.type_headers") == false ? .disabled : typeIds
  }

  private static func retryPolicy(_ values: inout ConfigValues) throws(Invalid) -> RetryPolicy {
    var policy = RetryPolicy.standard
    policy.attempts = try values.integer("retry.attempts") ?? policy.attempts
    policy.initialDelay = try values.duration("retry.initial_delay") ?? policy.initialDelay
    policy.multiplier = try values.decimal("retry.multiplier") ?? policy.multiplier
    policy.maxDelay = try values.duration("retry.max_delay") ?? policy.maxDelay
    policy.jitter = try values.decimal("retry.jitter") ?? policy.jitter
    policy.inPlaceAttempts = try values.integer("retry.in_place_attempts") ?? policy.inPlaceAttempts
    do {
      return try policy.validated()
    } catch {
      // The policy names the setting in `field`; the key is retry.<field>.
      throw Invalid(key: "retry." + (error.field ?? "attempts"), reason: error.message)
    }
  }

  private static func adminSettings(_ values: inout ConfigValues, dev: Bool, stateDirectory: String) throws(Invalid)
    -> AdminSettings
  {
    var admin = AdminSettings(
      socketPath: try values.text("admin.socket")
        ?? AdminSettings.defaultSocketPath(dev: dev, stateDirectory: stateDirectory))
    // sockaddr_un holds 108 bytes with the terminating NUL; a longer path fails at bind
    // with a vaguer message.
    guard !admin.socketPath.isEmpty, admin.socketPath.utf8.count < 108 else {
      throw Invalid(key: "admin.socket", reason: "must be a path of 1 to 107 bytes, got '\(admin.socketPath)'")
    }
    admin.idleTimeout = try values.duration("admin.idle_timeout") ?? admin.idleTimeout
    admin.maxConnections = try values.integer("admin.max_connections") ?? admin.maxConnections
    admin.maxConnectionsPerUser =
      try values.integer("admin.max_connections_per_user") ?? admin.maxConnectionsPerUser
    let reserved = try values.integer("admin.reserved_connections")
    // The default gives way to a small admin.max_connections; a value set on purpose does not.
    admin.reservedConnections = reserved ?? min(admin.reservedConnections, admin.maxConnections / 2)
    admin.requestTimeout = try values.duration("admin.request_timeout") ?? admin.requestTimeout
    admin.maxSession = try values.duration("admin.max_session") ?? admin.maxSession
    guard admin.reservedConnections < admin.maxConnections else {
      throw Invalid(
        key: "admin.reserved_connections",
        reason: "must be below admin.max_connections (\(admin.maxConnections)), or only root could connect")
    }
    admin.operatorGroups = try values.list("admin.operator_groups") ?? []
    admin.readGroups = try values.list("admin.read_groups") ?? []
    return admin
  }
}
