public import SagaCore
import Synchronization

/// A level-triggered wake-up signal: `signal` sets it, `wait` returns at once if it is
/// set (and clears it) or suspends until the next signal or `timeout`. Signals that
/// arrive while nobody waits are folded into one, which is all a relay needs: "there
/// may be something new, look again".
public final class Wakeup: Sendable {
  private struct Waiter {
    let id: UInt64
    let continuation: CheckedContinuation<Void, Never>
    /// When its timeout ends the wait; nil: only a signal does.
    let deadline: SagaClock.Instant?
  }

  /// The timer task that ends timed waits: it sleeps until `deadline` and then looks at
  /// whoever waits. One serves consecutive waits: a relay under load waits hundreds of times
  /// a second and a signal ends nearly every wait; a task and a timer per wait cost two
  /// thread wake-ups each (Docs/benchmarks.md), one timer moved along costs one per timeout.
  private struct Timer {
    let generation: UInt64
    var deadline: SagaClock.Instant
    /// Set once the task exists (just after the timer is armed), to cancel it.
    var task: Task<Void, Never>?
  }

  private struct State {
    var signalled = false
    var waiter: Waiter?
    var nextID: UInt64 = 0
    /// A `signal` (not a `nudge`) came since ``takeSignal()`` last looked.
    var asked = false
    /// The armed timer.
    var timer: Timer?
  }

  private let state = Mutex(State())

  public init() {}

  /// Whether a signal is pending (nobody has waited since): for tests.
  var isSignalled: Bool { state.withLock { $0.signalled } }

  /// Whether a wait is in progress: for tests.
  var isWaiting: Bool { state.withLock { $0.waiter != nil } }

  public func signal() { wake(asking: true) }

  /// Wakes the waiter as ``signal()`` does, without counting as one for ``takeSignal()``: an
  /// outbox writer that handed its rows over (`OutboxHandoff`) wakes the relay without asking
  /// it to read.
  public func nudge() { wake(asking: false) }

  /// Whether ``signal()`` was called since the last call of this.
  func takeSignal() -> Bool {
    state.withLock { state in
      defer { state.asked = false }
      return state.asked
    }
  }

  private func wake(asking: Bool) {
    let waiter = state.withLock { state -> Waiter? in
      if asking { state.asked = true }
      if let waiter = state.waiter {
        state.waiter = nil
        return waiter
      }
      state.signalled = true
      return nil
    }
    waiter?.continuation.resume()
  }

  /// Returns after a signal or after `timeout` on `clock`, whichever comes first (also on
  /// cancellation). One waiter at a time, and every timed wait on one wake-up uses the same
  /// clock (its timer compares their deadlines).
  public func wait(timeout: Duration, clock: SagaClock = .continuous) async {
    await wait(until: clock.now + timeout, clock: clock)
  }

  /// Returns after a signal (also on cancellation), however long that takes.
  public func wait() async {
    await wait(until: nil, clock: nil)
  }

  private func wait(until deadline: SagaClock.Instant?, clock: SagaClock?) async {
    let id = state.withLock { state in
      state.nextID += 1
      return state.nextID
    }
    await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let (ready, arm, superseded) = state.withLock { state -> (Bool, UInt64?, Task<Void, Never>?) in
          if state.signalled || Task.isCancelled {
            state.signalled = false
            return (true, nil, nil)
          }
          precondition(state.waiter == nil, "Wakeup supports one waiter")
          state.waiter = Waiter(id: id, continuation: continuation, deadline: deadline)
          // A timer armed for this deadline or before serves it (it moves on when it fires).
          guard let deadline, state.timer.map({ $0.deadline > deadline }) ?? true else { return (false, nil, nil) }
          let superseded = state.timer?.task
          state.nextID += 1
          state.timer = Timer(generation: state.nextID, deadline: deadline)
          return (false, state.nextID, superseded)
        }
        superseded?.cancel()
        if ready {
          continuation.resume()
        } else if let arm, let deadline, let clock {
          let task = Task { await self.runTimer(arm, from: deadline, clock: clock) }
          let stale = state.withLock { state -> Bool in
            guard state.timer?.generation == arm else { return true }
            state.timer?.task = task
            return false
          }
          if stale { task.cancel() }
        }
      }
    } onCancel: {
      expire(id)
    }
  }

  /// Ends the timer kept for the next wait, unless a timed wait is in progress: for an owner
  /// that stops waiting, so that no task outlives it until the timer's deadline.
  public func cancelTimer() {
    let task = state.withLock { state -> Task<Void, Never>? in
      guard state.waiter?.deadline == nil, let timer = state.timer else { return nil }
      state.timer = nil
      return timer.task
    }
    task?.cancel()
  }

  /// Sleeps to each deadline in turn: at one it ends the wait that is due, or moves on to the
  /// current waiter's later deadline; it ends when nobody waits with a timeout, or when
  /// cancelled (a shorter timeout armed another timer, or ``cancelTimer()``).
  private func runTimer(_ generation: UInt64, from deadline: SagaClock.Instant, clock: SagaClock) async {
    var deadline = deadline
    while true {
      do {
        try await clock.sleep(until: deadline)
      } catch {
        return
      }
      let now = clock.now
      let (due, next) = state.withLock { state -> (Waiter?, SagaClock.Instant?) in
        guard state.timer?.generation == generation else { return (nil, nil) }
        guard let waiter = state.waiter, let until = waiter.deadline else {
          state.timer = nil
          return (nil, nil)
        }
        if until <= now {
          state.waiter = nil
          state.timer = nil
          return (waiter, nil)
        }
        state.timer?.deadline = until
        return (nil, until)
      }
      due?.continuation.resume()
      guard let next else { return }
      deadline = next
    }
  }

  private func expire(_ id: UInt64) {
    let waiter = state.withLock { state -> Waiter? in
      guard let waiter = state.waiter, waiter.id == id else { return nil }
      state.waiter = nil
      return waiter
    }
    waiter?.continuation.resume()
  }
}
