import Synchronization

/// A level-triggered wake-up signal: `signal` sets it, `wait` returns at once if it is
/// set (and clears it) or suspends until the next signal or `timeout`. Signals that
/// arrive while nobody waits are folded into one, which is all a relay needs: "there
/// may be something new, look again".
public final class Wakeup: Sendable {
  private struct State {
    var signalled = false
    var waiter: (id: UInt64, continuation: CheckedContinuation<Void, Never>)?
    var nextID: UInt64 = 0
  }

  private let state = Mutex(State())

  public init() {}

  public func signal() {
    let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
      if let waiter = state.waiter {
        state.waiter = nil
        return waiter.continuation
      }
      state.signalled = true
      return nil
    }
    waiter?.resume()
  }

  /// Returns after a signal or after `timeout`, whichever comes first (also on
  /// cancellation). One waiter at a time.
  public func wait(timeout: Duration) async {
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
          state.waiter = (id, continuation)
          return false
        }
        if ready {
          continuation.resume()
          return
        }
        Task { [self] in
          try? await Task.sleep(for: timeout)
          self.expire(id)
        }
      }
    } onCancel: {
      expire(id)
    }
  }

  private func expire(_ id: UInt64) {
    let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
      guard let waiter = state.waiter, waiter.id == id else { return nil }
      state.waiter = nil
      return waiter.continuation
    }
    waiter?.resume()
  }
}
