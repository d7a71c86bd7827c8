import AdminProtocol
import Logging
import SagaRuntime
import ServiceLifecycle
import Synchronization

/// The daemon-wide switches that signals and admin commands share: the graceful shutdown
/// of the service group and whether it outlasted its deadline, the `drain` gate in front
/// of `pay`, and the phase reported to systemd. One instance per sagad process.
final class DaemonControl: Sendable {
  enum Phase: String, Sendable {
    case starting, ready, draining, stopping
  }

  private struct State {
    var phase = Phase.starting
    var group: ServiceGroup?
    /// Why the shutdown was asked for, if an admin command asked.
    var shutdownReason: String?
    var shutdownBegan = false
    var timedOut = false
    /// `pay` requests inside the gate right now.
    var paysInFlight = 0
  }

  let notify: SdNotify
  let shutdownTimeout: Duration
  private let logger: Logger
  private let state = Mutex(State())
  private let shutdownStarted = Wakeup()
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

  /// Starts the graceful shutdown (Docs/design.md, "Shutdown") for the admin `shutdown`:
  /// the service group then stops its services in reverse order, as it does for SIGTERM
  /// and SIGINT. Idempotent.
  func requestShutdown(reason: String) {
    let group: ServiceGroup? = state.withLock { state in
      guard state.shutdownReason == nil, let group = state.group else { return nil }
      state.shutdownReason = reason
      // At once, not when the group reaches the signal service: `pay` is refused from here.
      state.phase = .stopping
      return group
    }
    guard let group else { return }
    Task { await group.triggerGracefulShutdown() }
  }

  /// The group began its graceful shutdown (`SignalService`, the first service it stops,
  /// calls this): stop taking `pay`, finish the batches, flush the outbox, all within
  /// `shutdown.timeout` (`ShutdownDeadline` watches it). Idempotent.
  func shutdownBegan(signal: String) {
    let reason: String? = state.withLock { state in
      guard !state.shutdownBegan else { return nil }
      state.shutdownBegan = true
      state.phase = .stopping
      if state.shutdownReason == nil { state.shutdownReason = signal }
      return state.shutdownReason
    }
    guard let reason else { return }
    logger.notice(
      "shutting down", metadata: ["reason": "\(reason)", "timeout": "\(DurationParsing.format(shutdownTimeout))"])
    notify.send("STOPPING=1", "STATUS=stopping (\(reason))")
    shutdownStarted.signal()
  }

  var isShuttingDown: Bool { state.withLock { $0.shutdownBegan || $0.shutdownReason != nil } }

  /// Returns once the graceful shutdown began (at once if it has), or on cancellation.
  func waitForShutdown() async {
    while !Task.isCancelled, !state.withLock({ $0.shutdownBegan }) {
      await shutdownStarted.wait()
    }
  }

  /// Called when `shutdown.timeout` passed before the drain finished: says what was still
  /// pending, and makes sagad exit 1 once the group has cancelled what still ran.
  func drainTimedOut() {
    state.withLock { $0.timedOut = true }
    logger.critical(
      "shutdown.timeout passed before the drain finished; cancelling what still runs, then exiting 1",
      metadata: ["timeout": "\(DurationParsing.format(shutdownTimeout))", "pending": "\(pendingDetail())"])
  }

  /// Whether the drain outlasted `shutdown.timeout`: sagad's exit status is then 1.
  var timedOut: Bool { state.withLock { $0.timedOut } }

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
