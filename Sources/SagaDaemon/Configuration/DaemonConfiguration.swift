import Configuration
import Foundation
import Payments
import SagaCore
import SagaRuntime
import SagaStorage

/// The daemon's settings: a YAML file (`--config`), every key overridable by an
/// environment variable (`SAGAD_` + the key upper-cased, `.` → `_`, e.g.
/// `SAGAD_KAFKA_BROKERS`), then command-line flags. `DaemonConfigKey.all` lists the keys;
/// an unknown key, or a value of the wrong shape, stops sagad with the key's name.
struct DaemonConfiguration: Sendable {
  var node: SagaNodeConfiguration
  /// `log.level`, nil when unset (the command line or `info` then decides).
  var logLevel: LoggingOptions.Level?
  var admin: AdminSettings
  /// `metrics.listen`.
  var metrics = MetricsSettings()
  /// `tracing.*`.
  var tracing = TracingSettings()
  var shutdownTimeout: Duration = .seconds(30)
  /// `state_dir_group`: who besides sagad's user may read the databases; nil: nobody.
  var stateDirectoryGroup: String?
  /// `lag.window`: statistics samples the `lag` status is judged over.
  var lagWindow = 10
  /// Whether `kafka.brokers` is `embedded`: sagad then runs the development cluster itself.
  var embeddedBroker = false
  /// Every catalog key with the value in effect and where it came from, for `check-config`
  /// and for telling what a SIGHUP changed.
  var effective: [Effective] = []

  struct Effective: Sendable, Hashable {
    var key: String
    /// The value in force, secrets included: compared across reloads, never printed.
    var value: String
    /// `value` with secrets redacted: what `check-config` and logs show.
    var display: String
    /// `default`, `file` or the environment variable's name.
    var source: String
  }

  /// Where the state lives in `--dev` mode when no `state_dir` is given.
  static let devStateDirectory = ".sagad"
  /// The file sagad reads outside `--dev` when no `--config` is given.
  static let defaultFile = "/etc/sagad/sagad.yaml"

  struct Invalid: Error, CustomStringConvertible {
    let key: String
    let reason: String
    var description: String { "configuration key '\(key)': \(reason)" }
  }

  /// Reads `file` (optional in `--dev`) and the environment, and validates every key.
  static func load(file: String?, dev: Bool, environment: [String: String] = ProcessInfo.processInfo.environment)
    async throws(Invalid) -> DaemonConfiguration
  {
    if let file, !FileManager.default.fileExists(atPath: file) {
      throw Invalid(key: "--config", reason: "no such file: \(file)")
    }
    let sources = try ConfigSources(file: file, environment: environment)
    var providers: [any ConfigProvider] = [
      EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "sagad")
    ]
    if let file {
      do {
        providers.append(try await FileProvider<YAMLSnapshot>(filePath: .init(file)))
      } catch {
        throw Invalid(key: "--config", reason: "cannot read \(file): \(error)")
      }
    }
    var values = ConfigValues(reader: ConfigReader(providers: providers), sources: sources)
    var configuration = try read(&values, dev: dev)
    configuration.effective = DaemonConfigKey.all.map { key in
      let value = values.rendered[key.name]
      let source: String
      if value == nil {
        source = "default"
      } else if key.kind == .properties {
        let prefix = key.name + "."
        source = sources.environmentKeys.keys.contains { $0.hasPrefix(prefix) } ? "environment" : "file"
      } else {
        source = sources.environmentKeys[key.name] ?? "file"
      }
      let effective = value ?? configuration.defaultRendering(of: key)
      let display =
        values.displayed[key.name] ?? (DaemonConfigKey.isSecret(key.name) ? DaemonConfigKey.redacted : effective)
      return Effective(key: key.name, value: effective, display: display, source: source)
    }
    return configuration
  }

  /// What an unset key amounts to in this configuration (`--dev` changes a few).
  private func defaultRendering(of key: DaemonConfigKey) -> String {
    switch key.name {
    case "state_dir": node.stateDirectory
    case "kafka.brokers": embeddedBroker ? "embedded" : node.bootstrapServers
    case "admin.socket": admin.socketPath
    case "metrics.listen": metrics.enabled ? "\(metrics.host):\(metrics.port)" : "off"
    case "failpoints.enabled": String(node.failpointsEnabled)
    case "admin.operator_groups", "admin.read_groups", "kafka.producer": "(none)"
    case "payments.group_commit_window":
      DurationParsing.format(PaymentsService.defaultGroupWindow(for: node.postgres == nil ? .sqlite : .postgres))
    default: key.defaultValue
    }
  }

  /// The effective value of `key`, as `check-config` prints it.
  func value(of key: String) -> String? { effective.first { $0.key == key }?.value }
}
