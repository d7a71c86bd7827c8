import Foundation
import SagaCore

/// A dedicated OS thread for one librdkafka client. Blocking calls (consumer poll,
/// synchronous commit, metadata, close) run here one after another, so they never hold
/// a thread of Swift's cooperative pool. With an `idle` body (the producer's
/// `rd_kafka_poll`) the thread runs it whenever no job is queued; `idle` must return
/// soon after `wake` is called (which happens whenever a job is queued), or else within a
/// short bounded time, so queued jobs are not starved.
final class KafkaIOThread: @unchecked Sendable {
  // Guarded by `condition`; @unchecked because NSCondition is the lock.
  private let condition = NSCondition()
  private var jobs: [@Sendable () -> Void] = []
  private var stopRequested = false
  private var stopped = false
  private var stopWaiters: [CheckedContinuation<Void, Never>] = []
  private let idle: (@Sendable () -> Void)?
  /// Ends a blocking `idle` early; called after a job is queued, outside the lock.
  private let wake: (@Sendable () -> Void)?

  /// - Parameter name: the thread's name as `top -H`, `perf` and `gdb` show it (Linux keeps 15
  ///   bytes). Set from the thread itself: otherwise it keeps the name of the thread that
  ///   created it (a cooperative pool thread's), hiding these threads' work in profiles.
  init(name: String, idle: (@Sendable () -> Void)? = nil, wake: (@Sendable () -> Void)? = nil) {
    self.idle = idle
    self.wake = wake
    let shown = Self.osName(name)
    let thread = Thread { [self] in
      Self.nameCurrentThread(shown)
      self.loop()
    }
    thread.start()
  }

  /// On Linux through the thread's own `comm` file (proc(5)): Foundation's `Thread.name`
  /// reaches the OS only once `start()` has stored the pthread handle, which races with the
  /// new thread's first lines (CI saw the creator's name kept), and Swift's Glibc module does
  /// not expose `pthread_setname_np`.
  private static func nameCurrentThread(_ name: String) {
    #if os(Linux)
      let fd = open("/proc/thread-self/comm", O_WRONLY)
      guard fd >= 0 else { return }
      defer { close(fd) }
      _ = name.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
    #else
      Thread.current.name = name
    #endif
  }

  /// `name` cut to whole characters within 15 bytes: Linux refuses a longer name outright.
  static func osName(_ name: String) -> String { name.prefix(utf8Bytes: 15) }

  /// Runs `body` on the thread and returns its result.
  func run<T: Sendable>(
    _ body: @escaping @Sendable () throws(KafkaError) -> T
  ) async throws(KafkaError) -> T {
    let result: Result<T, KafkaError> = await withCheckedContinuation { continuation in
      let accepted = enqueue {
        do throws(KafkaError) {
          continuation.resume(returning: .success(try body()))
        } catch {
          continuation.resume(returning: .failure(error))
        }
      }
      if !accepted {
        continuation.resume(returning: .failure(.closed("librdkafka client thread")))
      }
    }
    return try result.get()
  }

  /// Runs `body` on the thread without waiting for it. Returns false once stopped.
  @discardableResult
  func enqueue(_ body: @escaping @Sendable () -> Void) -> Bool {
    condition.lock()
    guard !stopRequested else {
      condition.unlock()
      return false
    }
    jobs.append(body)
    condition.signal()
    condition.unlock()
    wake?()
    return true
  }

  /// Runs `last` after the queued jobs, then ends the thread, without waiting: for
  /// `deinit`, where nothing can be awaited.
  func finish(with last: @escaping @Sendable () -> Void) {
    condition.lock()
    guard !stopRequested else {
      condition.unlock()
      return
    }
    jobs.append(last)
    stopRequested = true
    condition.signal()
    condition.unlock()
    wake?()
  }

  /// Lets queued jobs finish, then ends the thread. Returns once it has ended.
  func stop() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      condition.lock()
      if stopped {
        condition.unlock()
        continuation.resume()
        return
      }
      stopRequested = true
      stopWaiters.append(continuation)
      condition.signal()
      condition.unlock()
      wake?()
    }
  }

  private func loop() {
    while true {
      condition.lock()
      while jobs.isEmpty && !stopRequested && idle == nil {
        condition.wait()
      }
      let batch = jobs
      jobs.removeAll(keepingCapacity: true)
      let exiting = stopRequested && batch.isEmpty
      condition.unlock()

      if exiting { break }
      if batch.isEmpty {
        idle?()
      } else {
        for job in batch { job() }
      }
    }
    condition.lock()
    stopped = true
    let waiters = stopWaiters
    stopWaiters.removeAll()
    condition.unlock()
    for waiter in waiters { waiter.resume() }
  }
}
