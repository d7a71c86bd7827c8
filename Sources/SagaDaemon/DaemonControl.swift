import AdminProtocol
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The daemon-wide switches that signals and admin commands share: graceful shutdown
/// with its deadline, the `drain` gate in front of `pay`, and the phase reported to
/// systemd. One instance per sagad process.
final class DaemonControl: Sendable {
  enum Phase: String, Sendable {
    case starting, ready, draining, stopping
  }

  private struct State {
    var phase = Phase.starting
    var group: ServiceGroup?
    var shutdownRequested = false
    /// `pay` requests inside the gate right now.
    var paysInFlight = 0
    /// Names of the top-level services still running, for the shutdown-timeout report.
    var running: Set<String> = []
  }

  let notify: SdNotify
  let shutdownTimeout: Duration
  private let logger: Logger
  private let state = Mutex(State())
  /// Extra detail for the timeout report (workers still polling, outbox rows waiting).
  private let pendingDetail: @Sendable () -> [String]

  init(
    notify: SdNotify, shutdownTimeout: Duration, logger: Logger,
    pendingDetail: @escaping @Sendable () -> [String] = { [] }
  ) {
    self.notify = notify
    self.shutdownTimeout = shutdownTimeout
    self.logger = logger
    self.pendingDetail = pendingDetail
  }

  var phase: Phase { state.withLock { $0.phase } }

  /// The group that `requestShutdown` stops; set once it exists.
  func attach(_ group: ServiceGroup) {
    state.withLock { $0.group = group }
  }

  func markReady() {
    let changed = state.withLock { state in
      guard state.phase == .starting else { return false }
      state.phase = .ready
      return true
    }
    if changed { notify.send("READY=1") }
  }

  // MARK: Shutdown

  /// Starts the graceful shutdown (Docs/design.md, "Shutdown"; SIGTERM, SIGINT, `shutdown`): stop
  /// taking `pay`, finish the batches, flush the outbox. If it is not over within
  /// `shutdown.timeout`, sagad says what was still pending and exits 1. Idempotent.
  func requestShutdown(reason: String) {
    let group: ServiceGroup? = state.withLock { state in
      guard !state.shutdownRequested, state.group != nil else { return nil }
      state.shutdownRequested = true
      state.phase = .stopping
      return state.group
    }
    guard let group else { return }
    logger.notice(
      "shutting down", metadata: ["reason": "\(reason)", "timeout": "\(DurationParsing.format(shutdownTimeout))"])
    notify.send("STOPPING=1", "STATUS=stopping (\(reason))")
    startDeadline()
    Task { await group.triggerGracefulShutdown() }
  }

  var isShuttingDown: Bool { state.withLock { $0.shutdownRequested } }

  /// A thread, not a task: if the drain hangs because something blocks the cooperative
  /// pool, a task would never run to report it.
  private func startDeadline() {
    let timeout = shutdownTimeout
    Thread.detachNewThread { [self] in
      Thread.sleep(forTimeInterval: Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
      let running = state.withLock { $0.running.sorted() }
      let detail = pendingDetail()
      logger.critical(
        "shutdown.timeout passed before the drain finished; exiting 1",
        metadata: [
          "timeout": "\(DurationParsing.format(timeout))", "stillRunning": "\(running)", "pending": "\(detail)",
        ])
      exit(1)
    }
  }

  /// Records that service `name` runs until `body` returns, for the timeout report.
  func tracking<T>(_ name: String, _ body: () async throws -> T) async rethrows -> T {
    _ = state.withLock { $0.running.insert(name) }
    defer { _ = state.withLock { $0.running.remove(name) } }
    return try await body()
  }

  // MARK: Drain

  /// Refuses new payments from now on (`drain`). Returns false if already draining.
  @discardableResult
  func beginDrain() -> Bool {
    let changed = state.withLock { state in
      guard state.phase == .ready || state.phase == .starting else { return false }
      state.phase = .draining
      return true
    }
    if changed { notify.status("draining: pay is refused") }
    return changed
  }

  var paysInFlight: Int { state.withLock { $0.paysInFlight } }

  /// Runs `pay` unless sagad is draining or stopping; counts it while it runs.
  func gatePay<T: Sendable>(_ pay: () async throws -> T) async throws -> T {
    let admitted = state.withLock { state in
      guard state.phase == .ready || state.phase == .starting else { return false }
      state.paysInFlight += 1
      return true
    }
    guard admitted else {
      throw AdminProtocolError(
        .shuttingDown,
        phase == .draining
          ? "sagad is draining (`drain`): it takes no new payments until it is restarted"
          : "sagad is shutting down: it takes no new payments")
    }
    defer { state.withLock { $0.paysInFlight -= 1 } }
    return try await pay()
  }
}

/// A top-level service whose lifetime `DaemonControl` tracks by name.
struct TrackedService: Service {
  let name: String
  let service: any Service
  let control: DaemonControl

  func run() async throws {
    try await control.tracking(name) { try await service.run() }
  }
}
