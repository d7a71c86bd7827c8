import Foundation

/// Time columns hold integer milliseconds since the Unix epoch, like the storage tables,
/// so one `ORDER BY` or `datetime(at / 1000, 'unixepoch')` works across all of them.
extension Date {
  var paymentsMilliseconds: Int64 {
    Int64((timeIntervalSince1970 * 1000).rounded(.down))
  }

  init(paymentsMilliseconds milliseconds: Int64) {
    self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
  }
}
