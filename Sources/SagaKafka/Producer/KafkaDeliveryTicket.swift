import Synchronization

/// Handed back by `KafkaProducer.send` once librdkafka has queued the message; awaits
/// its delivery report. Awaiting is optional and may happen any number of times.
public struct KafkaDeliveryTicket: Sendable {
  let promise: DeliveryPromise

  /// The delivery report, once librdkafka has one.
  public var report: KafkaDeliveryReport {
    get async { await promise.value }
  }
}

/// One-shot result cell completed from librdkafka's delivery callback.
final class DeliveryPromise: Sendable {
  private enum State {
    case pending([CheckedContinuation<KafkaDeliveryReport, Never>])
    case done(KafkaDeliveryReport)
  }

  private let state = Mutex(State.pending([]))

  var value: KafkaDeliveryReport {
    get async {
      if case .done(let report) = state.withLock({ $0 }) { return report }
      return await withCheckedContinuation { continuation in
        let ready = state.withLock { state -> KafkaDeliveryReport? in
          switch state {
          case .done(let report): return report
          case .pending(var waiters):
            waiters.append(continuation)
            state = .pending(waiters)
            return nil
          }
        }
        if let ready { continuation.resume(returning: ready) }
      }
    }
  }

  /// The report if it has arrived, without waiting.
  var current: KafkaDeliveryReport? {
    if case .done(let report) = state.withLock({ $0 }) { return report }
    return nil
  }

  func fulfill(_ report: KafkaDeliveryReport) {
    let waiters = state.withLock { state -> [CheckedContinuation<KafkaDeliveryReport, Never>] in
      guard case .pending(let waiters) = state else { return [] }
      state = .done(report)
      return waiters
    }
    for waiter in waiters { waiter.resume(returning: report) }
  }
}
