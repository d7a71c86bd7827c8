import Foundation
import SagaTestSupport

/// `sagad --config` on a `sagad dev-broker`, as an operator runs it: the broker, and a state
/// directory holding the configuration file, the admin socket and the databases. Each
/// `start()` is one sagad process on them (a restart is another `start()`).
struct ConfiguredDaemon {
  let broker: DevBrokerProcess
  let directory: TemporaryDirectory
  var socket: String { directory.path + "/sagad.sock" }
  var config: String { directory.path + "/sagad.yaml" }

  /// Starts the broker and writes the configuration: `consumer` adds librdkafka consumer
  /// properties (`kafka.consumer`), `extra` top-level YAML; metrics take an ephemeral port.
  static func make(consumer: [String: String] = [:], extra: String = "") async throws -> ConfiguredDaemon {
    let broker = try await DevBrokerProcess.start()
    do {
      let setup = ConfiguredDaemon(broker: broker, directory: try TemporaryDirectory())
      let consumerSection =
        consumer.isEmpty
        ? "" : "\n  consumer:" + consumer.sorted { $0.key < $1.key }.map { "\n    \($0.key): \($0.value)" }.joined()
      try """
      kafka:
        brokers: "\(broker.bootstrap)"\(consumerSection)
      state_dir: "\(setup.directory.path)"
      admin:
        socket: "\(setup.socket)"
      log:
        level: warning
      metrics:
        listen: "127.0.0.1:0"
      \(extra)
      """.write(toFile: setup.config, atomically: true, encoding: .utf8)
      return setup
    } catch {
      broker.cleanUp()
      throw error
    }
  }

  /// Starts a sagad on the configuration and waits until its admin socket answers.
  /// `launcher` runs it through another program (e.g. `prlimit --nofile=…`); `environment`
  /// adds variables (`SAGAD_*` overrides) for this process only.
  func start(launcher: [String] = [], environment: [String: String?] = [:]) async throws -> ChildProcess {
    let binary = try sagadBinary()
    let daemon =
      try launcher.isEmpty
      ? ChildProcess(binary, ["--config", config], pipeStdin: false, environment: environment)
      : ChildProcess(
        URL(fileURLWithPath: launcher[0]), Array(launcher.dropFirst()) + [binary.path, "--config", config],
        pipeStdin: false, environment: environment)
    do {
      try await waitForAdminSocket(socket, of: daemon)
    } catch {
      daemon.killIfRunning()
      throw error
    }
    return daemon
  }

  /// Kills the broker. Call it in a `defer`.
  func cleanUp() { broker.cleanUp() }
}
