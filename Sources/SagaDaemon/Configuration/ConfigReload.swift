import Foundation
import Logging
import Synchronization

/// SIGHUP: reads the configuration again and applies the keys that can change while
/// sagad runs (`DaemonConfigKey.reloadable`); every other changed key is named in the
/// log as needing a restart. An invalid file changes nothing: the running configuration
/// stays, and the error is logged.
final class ConfigReload: Sendable {
  struct Outcome: Sendable, Hashable {
    /// Reloadable keys whose new value is in effect.
    var applied: [String] = []
    /// Changed keys that take effect only after a restart.
    var needRestart: [String] = []
    /// Why nothing was applied, when the configuration was invalid.
    var error: String?
  }

  private let file: String?
  private let dev: Bool
  private let environment: [String: String]
  /// `--log-level` pins the level: a reload then leaves it alone.
  private let logLevelPinned: Bool
  private let logger: Logger
  private let current: Mutex<DaemonConfiguration>
  /// Applies reloadable sections other than the log level (the node's retry policy and
  /// sweeper, when it offers hooks for them).
  private let apply: @Sendable (DaemonConfiguration) -> [String]

  init(
    file: String?, dev: Bool, environment: [String: String], loaded: DaemonConfiguration, logLevelPinned: Bool,
    logger: Logger, apply: @escaping @Sendable (DaemonConfiguration) -> [String] = { _ in [] }
  ) {
    self.file = file
    self.dev = dev
    self.environment = environment
    self.logLevelPinned = logLevelPinned
    self.logger = logger
    self.current = Mutex(loaded)
    self.apply = apply
  }

  var configuration: DaemonConfiguration { current.withLock { $0 } }

  func reload() async -> Outcome {
    let next: DaemonConfiguration
    do {
      next = try await DaemonConfiguration.load(file: file, dev: dev, environment: environment)
    } catch {
      logger.error("reload: the configuration is invalid; keeping the running one", metadata: ["error": "\(error)"])
      return Outcome(error: "\(error)")
    }
    let previous = current.withLock { $0 }
    let before = Dictionary(uniqueKeysWithValues: previous.effective.map { ($0.key, $0.value) })
    let changed = next.effective.filter { before[$0.key] != $0.value }.map(\.key)
    var outcome = Outcome()
    for key in changed {
      if DaemonConfigKey.named(key)?.reloadable == true {
        outcome.applied.append(key)
      } else {
        outcome.needRestart.append(key)
      }
    }
    if outcome.applied.contains("log.level") {
      if logLevelPinned {
        outcome.applied.removeAll { $0 == "log.level" }
        outcome.needRestart.append("log.level")
      } else {
        LiveLogLevel.current = (next.logLevel ?? .info).loggerLevel
      }
    }
    let unsupported = Set(apply(next))
    outcome.needRestart += outcome.applied.filter(unsupported.contains)
    outcome.applied.removeAll(where: unsupported.contains)
    // Keep the restart-only values as they run, so a later reload reports them again.
    current.withLock { running in
      var kept = next
      kept.effective = next.effective.map { entry in
        outcome.needRestart.contains(entry.key) ? (previous.effective.first { $0.key == entry.key } ?? entry) : entry
      }
      running = kept
    }
    logger.notice(
      "configuration reloaded",
      metadata: [
        "applied": "\(outcome.applied)", "needRestart": "\(outcome.needRestart)",
        "logLevel": "\(LiveLogLevel.current)",
      ])
    if !outcome.needRestart.isEmpty {
      logger.warning(
        "reload: these keys changed but take effect only after a restart",
        metadata: ["keys": "\(outcome.needRestart.joined(separator: ", "))"])
    }
    return outcome
  }
}
