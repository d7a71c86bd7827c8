/// The one error type saga code throws (typed throws). It carries a stable machine code
/// for metrics labels, DLT headers and `sagactl`, a message written for an operator (it
/// names the event, field and value at fault), and whether a retry can help.
public struct SagaError: Error, Sendable, Hashable, CustomStringConvertible {
  /// A stable, string-backed error code. A struct rather than an enum so that services can
  /// add codes without touching SagaCore; the raw values are part of the operator contract
  /// (DLT reasons, logs), so never rename one.
  public struct Code: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
  {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public var description: String { rawValue }

    /// The body is not a JSON object (not JSON at all, truncated, an array, …).
    public static let invalidJSON: Code = "invalid-json"
    /// A required field is absent or null.
    public static let missingField: Code = "missing-field"
    /// A field has the wrong JSON type (a string where an integer belongs, a fraction, …).
    public static let wrongType: Code = "wrong-type"
    /// A field is well-typed but out of range: a negative amount, a non-positive id.
    public static let invalidValue: Code = "invalid-value"
    /// The body's `eventVersion` has a major version sagad does not read.
    public static let unsupportedVersion: Code = "unsupported-version"
    /// Points: the user has no point account (the report's `NotFoundException`).
    public static let userNotEnrolled: Code = "user-not-enrolled"
    /// Payments: a compensation names a payment that does not exist.
    public static let unknownPayment: Code = "unknown-payment"
    /// Payments: a compensation's refund amount differs from the paid amount.
    public static let amountMismatch: Code = "amount-mismatch"
    /// Payments: a compensation arrived for a payment already `REWARDED`.
    public static let alreadyRewarded: Code = "already-rewarded"
    /// SQLite reported busy/locked: worth a retry.
    public static let databaseBusy: Code = "database-busy"
    /// Any other storage I/O failure: worth a retry.
    public static let storageIO: Code = "storage-io"
    /// A failpoint injected a transient fault (tests, drills).
    public static let injectedTransient: Code = "injected-transient"
    /// A failpoint injected a permanent fault (tests, drills).
    public static let injectedPermanent: Code = "injected-permanent"
    /// A bug or broken invariant. Permanent: retrying the same bug only delays the DLT.
    public static let internalError: Code = "internal"

    /// Every code SagaCore defines, for documentation and tests.
    public static let known: [Code] = [
      .invalidJSON, .missingField, .wrongType, .invalidValue, .unsupportedVersion, .userNotEnrolled,
      .unknownPayment, .amountMismatch, .alreadyRewarded, .databaseBusy, .storageIO, .injectedTransient,
      .injectedPermanent, .internalError,
    ]

    /// The class an error of this code has unless its thrower says otherwise: transient for
    /// the storage and injected-transient codes, permanent for everything else (an unknown
    /// code included, so that a surprise never retries forever).
    public var defaultFailureClass: FailureClass {
      switch self {
      case .databaseBusy, .storageIO, .injectedTransient: .transient
      default: .permanent
      }
    }
  }

  /// What went wrong, as a stable code.
  public let code: Code
  /// For an operator: what, where and which value.
  public let message: String
  /// The body field at fault (e.g. `paidAmount`), when the error is about one field.
  public let field: String?
  /// Whether a retry can help.
  public let failureClass: FailureClass

  /// - Parameter failureClass: defaults to `code.defaultFailureClass`.
  public init(_ code: Code, _ message: String, field: String? = nil, failureClass: FailureClass? = nil) {
    self.code = code
    self.message = message
    self.field = field
    self.failureClass = failureClass ?? code.defaultFailureClass
  }

  /// True when the runtime should try the message again (the failure is transient).
  public var isRetriable: Bool { failureClass == .transient }

  public var description: String { "\(code): \(message)" }
}
