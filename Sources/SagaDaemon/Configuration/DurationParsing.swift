import Foundation

/// Durations in the configuration: `500ms`, `1s`, `2m`, `1h`, `7d`, or a plain number of
/// seconds (`30`, `0.5`), so that YAML files and environment variables read the same.
enum DurationParsing {
  /// The duration `text` names, or nil if it is not one.
  static func parse(_ text: String) -> Duration? {
    let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
    let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
    var number = Substring(trimmed)
    var scale = 1.0
    // "ms" before "m" and "s": the longest suffix that matches wins.
    for unit in units where trimmed.hasSuffix(unit.suffix) {
      number = trimmed.dropLast(unit.suffix.count)
      scale = unit.seconds
      break
    }
    let digits = number.trimmingCharacters(in: .whitespaces)
    // Digits and at most one dot only: no signs, exponents, `nan` or `inf`.
    guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
      digits.filter({ $0 == "." }).count <= 1, let value = Double(digits)
    else { return nil }
    let milliseconds = (value * scale * 1000).rounded()
    guard milliseconds.isFinite, milliseconds < Double(Int64.max / 2) else { return nil }
    return .milliseconds(Int64(milliseconds))
  }

  /// The shortest exact spelling of `duration` (`250ms`, `30s`, `2m`), as check-config prints it.
  static func format(_ duration: Duration) -> String {
    let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    if milliseconds % 86_400_000 == 0, milliseconds >= 86_400_000 { return "\(milliseconds / 86_400_000)d" }
    if milliseconds % 3_600_000 == 0, milliseconds >= 3_600_000 { return "\(milliseconds / 3_600_000)h" }
    if milliseconds % 60_000 == 0, milliseconds >= 60_000 { return "\(milliseconds / 60_000)m" }
    if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
    return "\(milliseconds)ms"
  }
}
