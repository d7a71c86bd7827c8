import Foundation

/// Every time column holds integer milliseconds since the Unix epoch: sortable,
/// compact, the unit of Kafka timestamps, and readable with `sqlite3` by hand
/// (`datetime(created_at / 1000, 'unixepoch')`).
extension Date {
  var millisecondsSinceEpoch: Int64 {
    Int64((timeIntervalSince1970 * 1000).rounded(.down))
  }

  init(millisecondsSinceEpoch milliseconds: Int64) {
    self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
  }

  /// The instant `duration` before this one, for retention cut-offs.
  func subtracting(_ duration: Duration) -> Date {
    let (seconds, attoseconds) = duration.components
    return addingTimeInterval(-(Double(seconds) + Double(attoseconds) / 1e18))
  }
}

extension Duration {
  /// The duration in (fractional) seconds, as GRDB's busy timeout wants it.
  var timeInterval: TimeInterval {
    let (seconds, attoseconds) = components
    return Double(seconds) + Double(attoseconds) / 1e18
  }
}
