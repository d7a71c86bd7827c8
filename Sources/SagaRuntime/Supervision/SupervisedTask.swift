import CoreMetrics
import Foundation
import Logging
import SagaCore
import ServiceLifecycle
import Synchronization

/// The supervisor's wrapper around one child: a Service that never throws. It runs the
/// child, and when the child throws, waits a back-off and runs it again, until the child
/// failed more than `maxRestarts` times within `window`; then it waits, `failed`, for an
/// operator's `restart`. The child runs in a child task, so it sees the same graceful
/// shutdown as this wrapper and an operator restart can cancel it.
final class SupervisedTask: Service, Sendable {
  let child: SupervisedChild
  private let settings: SupervisorSettings
  private let random: @Sendable () -> Double
  private let clock: SagaClock
  private let logger: Logger
  private let record = Mutex(Record())
  /// Wakes a back-off or `failed` wait, and a running attempt, for an operator restart or
  /// a shutdown.
  private let wakeup = Wakeup()
  /// `sagad_worker_restarts_total{worker,kind}` (Docs/metrics.md): every start after the first,
  /// automatic or an operator's.
  private let restarts: Counter

  private struct Record {
    var state = SupervisedTaskState.stopped
    var starts = 0
    var lastError: String?
    var lastErrorAt: Date?
    var nextStartAt: Date?
    var backoffs: [Duration] = []
    /// Failures within the current window, oldest first.
    var failures: [SagaClock.Instant] = []
    var restartRequested = false
  }

  private enum Outcome: Sendable {
    case returned
    case threw(any Error)
    case restartRequested
    case none
  }

  init(
    child: SupervisedChild, settings: SupervisorSettings, random: @escaping @Sendable () -> Double, clock: SagaClock,
    metrics: any MetricsFactory, logger: Logger
  ) {
    self.child = child
    restarts = Counter(
      label: Supervisor.restartsMetric, dimensions: [("worker", child.name), ("kind", child.kind.rawValue)],
      factory: metrics)
    self.settings = settings
    self.random = random
    self.clock = clock
    var logger = logger
    logger[metadataKey: "task"] = "\(child.name)"
    self.logger = logger
  }

  var snapshot: SupervisedTaskSnapshot {
    let paused = (child.service as? any PausableService)?.isPaused ?? false
    return record.withLock { record in
      SupervisedTaskSnapshot(
        name: child.name, kind: child.kind, state: record.state == .running && paused ? .paused : record.state,
        restarts: max(record.starts - 1, 0), lastError: record.lastError, lastErrorAt: record.lastErrorAt,
        nextStartAt: record.state == .backoff ? record.nextStartAt : nil, backoffs: record.backoffs)
    }
  }

  /// An operator restart: forgets the failures in the window and starts the child again
  /// now, whatever its state (a running child is cancelled first).
  func requestRestart() {
    record.withLock { record in
      record.failures = []
      record.restartRequested = true
    }
    wakeup.signal()
  }

  private var stopping: Bool { Task.isCancelled || Task.isShuttingDownGracefully }

  func run() async {
    await withGracefulShutdownHandler {
      await supervise()
    } onGracefulShutdown: {
      self.wakeup.signal()
    }
    record.withLock {
      $0.state = .stopped
      $0.nextStartAt = nil
    }
  }

  private func supervise() async {
    while !stopping {
      let restart = record.withLock { record in
        record.state = .starting
        record.starts += 1
        record.restartRequested = false
        record.nextStartAt = nil
        return record.starts > 1
      }
      if restart { restarts.increment() }
      let outcome = await attempt()
      if stopping { return }
      switch outcome {
      case .restartRequested, .none:
        logger.notice("restarting on operator request")
      case .returned:
        logger.warning("task returned without being asked to stop; restart it to run it again")
        record.withLock { $0.state = .stopped }
        await waitForOperator()
      case .threw(let error):
        guard let delay = recordFailure(error) else {
          logger.error(
            "task failed too often; not restarted until an operator restarts it",
            metadata: ["error": "\(error)", "maxRestarts": "\(settings.maxRestarts)", "window": "\(settings.window)"])
          await waitForOperator()
          continue
        }
        logger.warning("task threw; restarting after back-off", metadata: ["error": "\(error)", "delay": "\(delay)"])
        await waitForOperator(upTo: clock.now + delay)
      }
    }
  }

  /// Runs the child once, returning when it ends or when an operator asks for a restart
  /// (the child is then cancelled and awaited).
  private func attempt() async -> Outcome {
    let service = child.service
    return await withTaskGroup(of: Outcome.self) { group in
      group.addTask {
        do {
          try await service.run()
          return .returned
        } catch {
          return .threw(error)
        }
      }
      group.addTask {
        while !Task.isCancelled {
          await self.wakeup.wait()
          if self.takeRestartRequest() { return .restartRequested }
        }
        return .none
      }
      record.withLock { $0.state = .running }
      var first: Outcome?
      while let outcome = await group.next() {
        if first == nil {
          first = outcome
          group.cancelAll()
        }
      }
      return first ?? .none
    }
  }

  /// Records a failure; returns the back-off before the next start, or nil when the task
  /// is now `failed`.
  private func recordFailure(_ error: any Error) -> Duration? {
    let now = clock.now
    let wallTime = clock.wallTime
    let window = settings.window
    let jitter = random()
    return record.withLock { record -> Duration? in
      record.failures = record.failures.filter { now - $0 < window } + [now]
      record.lastError = "\(error)"
      record.lastErrorAt = wallTime
      guard record.failures.count <= settings.maxRestarts else {
        record.state = .failed
        return nil
      }
      let delay = settings.backoff(afterFailures: record.failures.count, random: jitter)
      record.state = .backoff
      record.backoffs.append(delay)
      record.nextStartAt = wallTime.addingTimeInterval(delay.inSeconds)
      return delay
    }
  }

  private func takeRestartRequest() -> Bool {
    record.withLock { record in
      defer { record.restartRequested = false }
      return record.restartRequested
    }
  }

  /// Waits until an operator restart, a shutdown, or `deadline` (none: forever).
  private func waitForOperator(upTo deadline: SagaClock.Instant? = nil) async {
    // A back-off cut short leaves no timer behind until its deadline.
    defer { wakeup.cancelTimer() }
    while !stopping {
      if record.withLock({ $0.restartRequested }) { return }
      guard let deadline else {
        await wakeup.wait()
        continue
      }
      let remaining = deadline - clock.now
      guard remaining > .zero else { return }
      await wakeup.wait(timeout: remaining, clock: clock)
    }
  }
}

extension Duration {
  /// The duration in seconds, as a `TimeInterval`.
  fileprivate var inSeconds: Double {
    let (seconds, attoseconds) = components
    return Double(seconds) + Double(attoseconds) / 1e18
  }
}
