import Foundation
import Logging
import SagaCore
import SagaRuntime

/// sagad's side of systemd supervision: `READY=1` once every consume worker polls and
/// the admin socket is bound, then a `WATCHDOG=1` every half `WATCHDOG_USEC`, but only
/// while each running loop's heartbeat advanced since the previous tick: a worker wedged
/// in a call stops the pings and systemd restarts sagad. `STATUS=` follows the phase.
struct Watchdog: Sendable {
  let control: DaemonControl
  let workers: [ConsumeWorker]
  /// The node's supervisor, whose failed and backing-off tasks the STATUS line names.
  let supervisor: Supervisor?
  let adminSocket: String
  let logger: Logger
  /// Between STATUS refreshes when systemd asked for no watchdog.
  var statusInterval: Duration = .seconds(5)
  /// What the readiness checks and the ticks wait on.
  var clock: SagaClock = .continuous

  /// Runs until cancelled (in sagad, a graceful shutdown reaching its `BackgroundLoop`).
  func run() async {
    let notify = control.notify
    while !Task.isCancelled, !isReady() {
      try? await clock.sleep(for: .milliseconds(50))
    }
    guard !Task.isCancelled else { return }
    control.markReady()
    var lastStatus = summary(stalled: [])
    notify.status(lastStatus)
    logger.info("sagad is ready", metadata: ["status": "\(lastStatus)"])

    let tick = notify.watchdogInterval.map { $0 / 2 } ?? statusInterval
    var previous = beats()
    var reportedStall = false
    while !Task.isCancelled {
      try? await clock.sleep(for: tick)
      guard !Task.isCancelled else { return }
      let current = beats()
      let stalled = current.filter { name, count in
        guard let before = previous[name], let count else { return false }
        return count == before
      }.keys.sorted()
      previous = current
      let loopsRunning = current.values.contains { $0 != nil }
      if stalled.isEmpty, loopsRunning || workers.isEmpty, control.phase != .stopping {
        if notify.watchdogInterval != nil { notify.send("WATCHDOG=1") }
        reportedStall = false
      } else if !stalled.isEmpty, !reportedStall {
        logger.error("watchdog: loops made no progress; not pinging systemd", metadata: ["stalled": "\(stalled)"])
        reportedStall = true
      }
      let status = summary(stalled: stalled)
      if status != lastStatus {
        notify.status(status)
        lastStatus = status
      }
    }
  }

  /// Heartbeat counts by worker; nil for a worker whose loop has stopped.
  private func beats() -> [String: UInt64?] {
    Dictionary(
      workers.map { ($0.name, $0.heartbeat.isStopped ? nil : $0.heartbeat.count) }, uniquingKeysWith: { a, _ in a })
  }

  private func isReady() -> Bool {
    var info = stat()
    guard lstat(adminSocket, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { return false }
    return workers.allSatisfy { $0.heartbeat.count > 0 }
  }

  /// One short line for `systemctl status`.
  func summary(stalled: [String]) -> String {
    let polling = workers.filter { !$0.heartbeat.isStopped }.count
    var text = "\(control.phase.rawValue): \(polling)/\(workers.count) workers polling"
    if !stalled.isEmpty { text += "; stalled: \(stalled.joined(separator: ", "))" }
    let snapshots = supervisor?.snapshots() ?? []
    for state in [SupervisedTaskState.failed, .backoff, .paused] {
      let names = snapshots.filter { $0.state == state }.map(\.name)
      if !names.isEmpty { text += "; \(state): \(names.joined(separator: ", "))" }
    }
    return text
  }
}
