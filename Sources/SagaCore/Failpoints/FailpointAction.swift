/// What an armed failpoint does when it fires. The text forms (`error(transient)`,
/// `error(permanent)`, `delay(250)` in milliseconds, `crash`) are what operators type and
/// what `list` shows.
public enum FailpointAction: Sendable, Hashable, CustomStringConvertible {
  /// Throws `SagaError(.injectedTransient)`: the caller retries as for a busy database.
  case errorTransient
  /// Throws `SagaError(.injectedPermanent)`: the caller dead-letters or parks.
  case errorPermanent
  /// Waits this long, then lets the caller go on.
  case delay(Duration)
  /// Writes one line to stderr and aborts the process: the crash drill.
  case crash

  /// Parses an operator's text form.
  /// - Throws: `invalid-value` naming the accepted forms.
  public init(parsing text: String) throws(SagaError) {
    switch text {
    case "error(transient)": self = .errorTransient
    case "error(permanent)": self = .errorPermanent
    case "crash": self = .crash
    default:
      if text.hasPrefix("delay("), text.hasSuffix(")") {
        var digits = text.dropFirst("delay(".count).dropLast()
        if digits.hasSuffix("ms") { digits = digits.dropLast(2) }
        if let millis = Int(digits), millis >= 0 {
          self = .delay(.milliseconds(millis))
          return
        }
      }
      throw SagaError(
        .invalidValue,
        "unknown failpoint action '\(text)'; expected error(transient), error(permanent), delay(<ms>) or crash",
        failureClass: .permanent)
    }
  }

  public var description: String {
    switch self {
    case .errorTransient: "error(transient)"
    case .errorPermanent: "error(permanent)"
    case .delay(let duration):
      "delay(\(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000))"
    case .crash: "crash"
    }
  }
}
