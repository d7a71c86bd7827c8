/// Burrow-style judgement of one partition's consumer lag over a sliding window of
/// statistics samples: a consumer that is merely behind is fine as long as it catches
/// up; one whose lag keeps growing is not.
enum LagEvaluation {
  enum Status: String, Sendable, Hashable, Comparable {
    case ok = "OK"
    case warn = "WARN"
    case err = "ERR"

    static func < (a: Status, b: Status) -> Bool {
      let order: [Status] = [.ok, .warn, .err]
      return order.firstIndex(of: a)! < order.firstIndex(of: b)!
    }
  }

  /// One sample of a partition.
  struct Sample: Sendable, Hashable {
    var lag: Int64?
    var committed: Int64?
    var highWatermark: Int64?
  }

  /// ERR when the lag grew at every step of a full window while the committed offset did
  /// not move (the consumer is stuck); WARN when the lag is higher at the end of the
  /// window than at its start (falling behind); OK otherwise, including a lag of zero
  /// and windows not yet full enough to judge.
  static func status(of samples: [Sample], window: Int) -> Status {
    let known = samples.suffix(window).compactMap { sample in sample.lag.map { (lag: $0, committed: sample.committed) }
    }
    guard known.count >= 2, let first = known.first, let last = known.last, last.lag > 0 else { return .ok }
    let steps = zip(known, known.dropFirst())
    let alwaysGrowing = steps.allSatisfy { $1.lag > $0.lag }
    let committedStill = Set(known.map(\.committed)).count == 1
    if known.count >= window, alwaysGrowing, committedStill { return .err }
    return last.lag > first.lag ? .warn : .ok
  }
}
