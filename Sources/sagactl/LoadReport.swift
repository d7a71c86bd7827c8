import Foundation

/// What `sagactl load` prints: `--json` gives this document with stable camelCase names.
struct LoadReport: Codable, Sendable, Equatable {
  /// Payments sagad accepted (new, not duplicates).
  var payments: Int
  /// From the first payment's commit to the last saga's end, by sagad's own timestamps.
  var seconds: Double
  var sagasPerSecond: Double
  /// Saga latency (payment commit → terminal state), nearest-rank percentiles.
  var p50Ms: Double
  var p99Ms: Double
  var maxMs: Double
  /// How many sagas ended in each state, e.g. `REWARDED`, `REFUNDED`, `COMPENSATION_FAILED`;
  /// `UNFINISHED` counts those still running when the settle timeout passed.
  var outcomes: [String: Int]
  /// Requests sagad refused, by reply code and text (e.g. a user id that already exists).
  var errors: [String: Int]
  var verifyOk: Bool
  var violations: [String]

  /// Nearest-rank percentile of sorted `values`, 0 when there are none.
  static func percentile(_ fraction: Double, of sorted: [Double]) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((fraction * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank, 1), sorted.count) - 1]
  }

  /// The human form: one fact a line, outcomes sorted by name.
  var text: String {
    var lines = [
      "payments        \(payments)",
      "seconds         \(String(format: "%.3f", seconds))",
      "sagas/s         \(String(format: "%.1f", sagasPerSecond))",
      "latency p50     \(String(format: "%.1f", p50Ms)) ms",
      "latency p99     \(String(format: "%.1f", p99Ms)) ms",
      "latency max     \(String(format: "%.1f", maxMs)) ms",
    ]
    for (state, count) in outcomes.sorted(by: { $0.key < $1.key }) {
      lines.append("\(state.padding(toLength: 16, withPad: " ", startingAt: 0))\(count)")
    }
    for (error, count) in errors.sorted(by: { $0.key < $1.key }) { lines.append("error           \(count) × \(error)") }
    lines.append("verify          \(verifyOk ? "ok" : "FAILED")")
    lines += violations.map { "  violation: \($0)" }
    return lines.joined(separator: "\n")
  }
}
