import Synchronization

/// Bounds the messages a producer holds without a delivery report. When the bound is
/// reached, `acquire` suspends the caller (FIFO) until a report frees a slot, so a
/// producer facing a dead broker applies backpressure instead of growing memory.
final class InFlightLimiter: Sendable {
  private struct Waiter {
    let id: UInt64
    let continuation: CheckedContinuation<Void, any Error>
  }

  private struct State {
    var inFlight = 0
    var highWater = 0
    var nextID: UInt64 = 0
    var waiters: [Waiter] = []
    var drainWaiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
    var closed = false
  }

  let limit: Int
  private let state = Mutex(State())

  init(limit: Int) {
    precondition(limit > 0, "the in-flight bound must be positive")
    self.limit = limit
  }

  /// Messages handed to librdkafka without a delivery report yet.
  var inFlight: Int { state.withLock { $0.inFlight } }
  /// The most messages ever in flight at once (never exceeds `limit`).
  var highWater: Int { state.withLock { $0.highWater } }
  /// Callers suspended in `acquire`.
  var waiting: Int { state.withLock { $0.waiters.count } }

  /// Takes a slot, suspending while all are taken.
  func acquire() async throws(KafkaError) {
    let fast: Result<Bool, KafkaError> = state.withLock { state in
      if state.closed { return .failure(.closed("producer")) }
      guard state.inFlight < limit, state.waiters.isEmpty else { return .success(false) }
      state.inFlight += 1
      state.highWater = max(state.highWater, state.inFlight)
      return .success(true)
    }
    if try fast.get() { return }

    let id = state.withLock { state in
      state.nextID += 1
      return state.nextID
    }
    do {
      try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
          let immediate: (any Error)?? = state.withLock { state in
            if state.closed { return .some(KafkaError.closed("producer")) }
            if Task.isCancelled { return .some(CancellationError()) }
            if state.inFlight < limit && state.waiters.isEmpty {
              state.inFlight += 1
              state.highWater = max(state.highWater, state.inFlight)
              return .some(nil)
            }
            state.waiters.append(Waiter(id: id, continuation: continuation))
            return .none
          }
          switch immediate {
          case .none: break
          case .some(.none): continuation.resume()
          case .some(.some(let error)): continuation.resume(throwing: error)
          }
        }
      } onCancel: {
        let waiter = state.withLock { state -> Waiter? in
          guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
          return state.waiters.remove(at: index)
        }
        waiter?.continuation.resume(throwing: CancellationError())
      }
    } catch let error as KafkaError {
      throw error
    } catch {
      throw KafkaError(
        code: .interrupted,
        message: "send cancelled while waiting for room in the producer queue", isRetriable: true)
    }
  }

  /// Takes as many free slots as possible, up to `wanted`, in one step; waits for one
  /// slot only when none is free. Returns how many were taken (at least one).
  func acquire(upTo wanted: Int) async throws(KafkaError) -> Int {
    precondition(wanted > 0, "acquire at least one slot")
    let taken: Result<Int, KafkaError> = state.withLock { state in
      if state.closed { return .failure(.closed("producer")) }
      guard state.waiters.isEmpty else { return .success(0) }
      let count = min(wanted, limit - state.inFlight)
      guard count > 0 else { return .success(0) }
      state.inFlight += count
      state.highWater = max(state.highWater, state.inFlight)
      return .success(count)
    }
    let count = try taken.get()
    if count > 0 { return count }
    try await acquire()
    return 1
  }

  /// Gives back `count` slots that were taken but not used.
  func release(count: Int) {
    for _ in 0..<count { release() }
  }

  /// Gives a slot back (one per delivery report, or after a failed enqueue). A waiting
  /// caller inherits it directly, so the count never exceeds the bound.
  func release() {
    let (waiter, drained) = state.withLock { state -> (Waiter?, [CheckedContinuation<Bool, Never>]) in
      if !state.waiters.isEmpty {
        return (state.waiters.removeFirst(), [])
      }
      state.inFlight -= 1
      guard state.inFlight == 0, !state.drainWaiters.isEmpty else { return (nil, []) }
      let drained = Array(state.drainWaiters.values)
      state.drainWaiters.removeAll()
      return (nil, drained)
    }
    waiter?.continuation.resume()
    for continuation in drained { continuation.resume(returning: true) }
  }

  /// Waits until nothing is in flight. Returns false if `timeout` passed first.
  func waitUntilDrained(timeout: Duration) async -> Bool {
    let id = state.withLock { state in
      state.nextID += 1
      return state.nextID
    }
    return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
      let done = state.withLock { state -> Bool in
        if state.inFlight == 0 && state.waiters.isEmpty { return true }
        state.drainWaiters[id] = continuation
        return false
      }
      if done {
        continuation.resume(returning: true)
        return
      }
      Task { [self] in
        try? await Task.sleep(for: timeout)
        let expired = state.withLock { $0.drainWaiters.removeValue(forKey: id) }
        expired?.resume(returning: false)
      }
    }
  }

  /// Refuses new acquisitions and fails the suspended ones.
  func close() {
    let waiters = state.withLock { state -> [Waiter] in
      state.closed = true
      defer { state.waiters.removeAll() }
      return state.waiters
    }
    for waiter in waiters { waiter.continuation.resume(throwing: KafkaError.closed("producer")) }
  }
}
