import Configuration
import Foundation
import SagaCore
import SagaRuntime
import SagaStorage

/// The daemon's settings: a YAML file (`--config`), every key overridable by an
/// environment variable (`SAGAD_` + the key upper-cased, `.` → `_`, e.g.
/// `SAGAD_KAFKA_BROKERS`), then command-line flags. This first cut reads the keys the
/// saga needs; `Docs/configuration.md` lists them. A value of the wrong shape stops
/// sagad with the key's name.
struct DaemonConfiguration: Sendable {
  var node: SagaNodeConfiguration
  var logLevel: String?
  var admin: AdminSettings

  /// Where the state lives in `--dev` mode when no `state_dir` is given.
  static let devStateDirectory = ".sagad"

  struct Invalid: Error, CustomStringConvertible {
    let key: String
    let reason: String
    var description: String { "configuration key '\(key)': \(reason)" }
  }

  /// Reads `file` (optional in `--dev`) and the environment. `brokers` is the bootstrap
  /// string to use when the configuration names `embedded` (or nothing, in `--dev`).
  static func load(file: String?, dev: Bool, environment: [String: String] = ProcessInfo.processInfo.environment)
    async throws -> (DaemonConfiguration, embeddedBroker: Bool)
  {
    var providers: [any ConfigProvider] = [
      EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "sagad")
    ]
    if let file {
      guard FileManager.default.fileExists(atPath: file) else {
        throw Invalid(key: "--config", reason: "no such file: \(file)")
      }
      providers.append(try await FileProvider<YAMLSnapshot>(filePath: .init(file)))
    }
    let reader = ConfigReader(providers: providers)

    let brokers = reader.string(forKey: "kafka.brokers") ?? (dev ? "embedded" : nil)
    guard let brokers, !brokers.isEmpty else {
      throw Invalid(key: "kafka.brokers", reason: "required: `embedded` or host:port,… (or run with --dev)")
    }
    let stateDirectory = reader.string(forKey: "state_dir") ?? (dev ? devStateDirectory : "/var/lib/sagad")
    var node = SagaNodeConfiguration(stateDirectory: stateDirectory, bootstrapServers: brokers)

    if let roles = reader.stringArray(forKey: "roles") ?? reader.string(forKey: "roles").map({ [$0] }) {
      var parsed = Set<SagaNodeConfiguration.Role>()
      for role in roles.flatMap({ $0.split(separator: ",") }).map({ $0.trimmingCharacters(in: .whitespaces) }) {
        guard let value = SagaNodeConfiguration.Role(rawValue: role) else {
          throw Invalid(key: "roles", reason: "unknown role '\(role)' (payments, points)")
        }
        parsed.insert(value)
      }
      guard !parsed.isEmpty else { throw Invalid(key: "roles", reason: "at least one of payments, points") }
      node.roles = parsed
    }
    if let batch = try integer(reader, "consumer.batch_max", in: 1...100_000) { node.consume.batchMax = batch }
    if let sync = reader.string(forKey: "storage.synchronous") {
      switch sync {
      case "full": node.synchronous = .full
      case "normal": node.synchronous = .normal
      default: throw Invalid(key: "storage.synchronous", reason: "'\(sync)' is neither full nor normal")
      }
    }
    let rate = try integer(reader, "reward.rate_bp", in: 0...10_000) ?? 1_000
    let unit = try integer(reader, "reward.unit", in: 1...Int.max) ?? 100
    node.rewardRule = try RewardRule(rateBasisPoints: Int64(rate), unit: Int64(unit))
    let logLevel = reader.string(forKey: "log.level")
    if let logLevel, LoggingOptions.Level(rawValue: logLevel) == nil {
      throw Invalid(
        key: "log.level",
        reason: "'\(logLevel)' is not one of \(LoggingOptions.Level.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    let admin = try adminSettings(reader, dev: dev, stateDirectory: stateDirectory)
    return (DaemonConfiguration(node: node, logLevel: logLevel, admin: admin), brokers == "embedded")
  }

  private static func adminSettings(_ reader: ConfigReader, dev: Bool, stateDirectory: String) throws
    -> AdminSettings
  {
    var admin = AdminSettings(
      socketPath: reader.string(forKey: "admin.socket")
        ?? AdminSettings.defaultSocketPath(dev: dev, stateDirectory: stateDirectory))
    // sockaddr_un holds 108 bytes with the terminating NUL; a longer path fails at bind
    // with a vaguer message.
    guard !admin.socketPath.isEmpty, admin.socketPath.utf8.count < 108 else {
      throw Invalid(key: "admin.socket", reason: "must be a path of 1 to 107 bytes, got '\(admin.socketPath)'")
    }
    if let seconds = try integer(reader, "admin.idle_timeout", in: 1...86_400) {
      admin.idleTimeout = .seconds(seconds)
    }
    if let limit = try integer(reader, "admin.max_connections", in: 1...10_000) { admin.maxConnections = limit }
    admin.operatorGroups = list(reader, "admin.operator_groups")
    admin.readGroups = list(reader, "admin.read_groups")
    return admin
  }

  /// A list key: a YAML list, or a comma-separated string (the environment's form).
  private static func list(_ reader: ConfigReader, _ key: String) -> [String] {
    let raw = reader.stringArray(forKey: ConfigKey(key)) ?? reader.string(forKey: ConfigKey(key)).map { [$0] } ?? []
    return raw.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter {
      !$0.isEmpty
    }
  }

  /// An integer key: absent → nil; present but not an integer in `range` → error.
  private static func integer(_ reader: ConfigReader, _ key: String, in range: ClosedRange<Int>) throws -> Int? {
    guard let text = reader.string(forKey: ConfigKey(key)) else {
      return reader.int(forKey: ConfigKey(key)).map { $0 }
    }
    guard let value = Int(text), range.contains(value) else {
      throw Invalid(key: key, reason: "'\(text)' is not an integer in \(range.lowerBound)...\(range.upperBound)")
    }
    return value
  }
}
