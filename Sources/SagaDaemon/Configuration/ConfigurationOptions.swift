public import ArgumentParser
import Foundation

/// Where the configuration comes from, shared by `sagad` and `sagad check-config`.
public struct ConfigurationOptions: ParsableArguments {
  @Flag(help: "Development mode: in-memory Kafka inside the process, state under ./.sagad/, no file needed.")
  var dev = false

  @Option(help: "The YAML configuration file (default: \(DaemonConfiguration.defaultFile), none with --dev).")
  var config: String?

  @Option(help: "Overrides `state_dir`: where the service databases live.")
  var stateDir: String?

  // Not `--brokers`: that is dev-broker's broker count, and ArgumentParser would
  // hand a subcommand's option to the parent that declares the same name.
  @Option(help: "Overrides `kafka.brokers`: `embedded` or host:port,…")
  var kafkaBrokers: String?

  public init() {}

  /// The file to read: `--config`, else the system file unless `--dev`.
  var file: String? { config ?? (dev ? nil : DaemonConfiguration.defaultFile) }

  /// The process environment with the command-line overrides, which win over both.
  func environment() -> [String: String] {
    var environment = ProcessInfo.processInfo.environment
    if let kafkaBrokers { environment["SAGAD_KAFKA_BROKERS"] = kafkaBrokers }
    if let stateDir { environment["SAGAD_STATE_DIR"] = stateDir }
    return environment
  }

  /// The validated configuration; an invalid one exits 64 with the key named.
  func load() async throws -> DaemonConfiguration {
    do {
      return try await DaemonConfiguration.load(file: file, dev: dev, environment: environment())
    } catch {
      throw ValidationError("\(error)")
    }
  }
}
