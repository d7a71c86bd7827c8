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
    /// The sleep that ends the wait at its timeout; cancelled when a signal ends it first.
    var timer: Task<Void, Never>?
  }

  private struct State {
    var signalled = false
    var waiter: Waiter?
    var nextID: UInt64 = 0
    /// A `signal` (not a `nudge`) came since ``takeSignal()`` last looked.
    var asked = false
  }

  private let state = Mutex(State())

  public init() {}

  /// Whether a signal is pending (nobody has waited since): for tests.
  var isSignalled: Bool { state.withLock { $0.signalled } }

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
    waiter?.timer?.cancel()
    waiter?.continuation.resume()
  }

  /// Returns after a signal or after `timeout` on `clock`, whichever comes first (also on
  /// cancellation). One waiter at a time.
  public func wait(timeout: Duration, clock: SagaClock = .continuous) async {
    await wait { id in
      Task { [self] in
        do {
          try await clock.sleep(for: timeout)
        } catch {
          return  // a signal or cancellation ended the wait first
        }
        self.expire(id)
      }
    }
  }

  /// Returns after a signal (also on cancellation), however long that takes.
  public func wait() async {
    await wait { _ in nil }
  }

  /// Waits for a signal; `timer` starts what else may end the wait (`expire` with the id).
  private func wait(timer: (UInt64) -> Task<Void, Never>?) async {
    let id = state.withLock { state in
      state.nextID += 1
      return state.nextID
    }
    await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let ready = state.withLock { state -> Bool in
          if state.signalled || Task.isCancelled {
            state.signalled = false
            return true
          }
          precondition(state.waiter == nil, "Wakeup supports one waiter")
          state.waiter = Waiter(id: id, continuation: continuation)
          return false
        }
        if ready {
          continuation.resume()
          return
        }
        guard let task = timer(id) else { return }
        // The wait may have ended meanwhile (a signal): then the timer has nothing to end.
        let stale = state.withLock { state -> Bool in
          guard state.waiter?.id == id else { return true }
          state.waiter?.timer = task
          return false
        }
        if stale { task.cancel() }
      }
    } onCancel: {
      expire(id)
    }
  }

  private func expire(_ id: UInt64) {
    let waiter = state.withLock { state -> Waiter? in
      guard let waiter = state.waiter, waiter.id == id else { return nil }
      state.waiter = nil
      return waiter
    }
    waiter?.timer?.cancel()
    waiter?.continuation.resume()
  }
}
