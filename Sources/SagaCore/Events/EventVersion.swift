/// The schema version of an event body, `major.minor` (Docs/event-catalog.md). A minor version only
/// adds optional fields, so sagad reads any `1.x`; a new major may change meaning, so it is
/// rejected (permanently, to the DLT) rather than guessed at. The report's Spring services
/// send no version at all, which means `1.0`.
public struct EventVersion: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
  /// The version sagad writes, whatever version it read.
  public static let current = EventVersion(major: 1, minor: 0)
  /// The only major version sagad reads.
  public static let supportedMajor = 1

  public let major: Int
  public let minor: Int

  /// - Precondition: both parts are non-negative.
  public init(major: Int, minor: Int) {
    precondition(major >= 0 && minor >= 0, "version parts must be non-negative")
    self.major = major
    self.minor = minor
  }

  /// Parses `"1"`, `"1.0"` or `"1.7"`: one or two dot-separated runs of ASCII digits, nothing
  /// else (no sign, no spaces, no third part). A missing minor is 0.
  public init?(_ text: String) {
    // Bytes: every consumed event's header is parsed here.
    var numbers = (major: 0, minor: 0)
    var part = 0
    var digits = 0
    for byte in text.utf8 {
      if byte == UInt8(ascii: ".") {
        guard part == 0, digits > 0 else { return nil }
        part = 1
        digits = 0
      } else {
        guard (0x30...0x39).contains(byte), digits < 9 else { return nil }
        let digit = Int(byte - 0x30)
        if part == 0 { numbers.major = numbers.major * 10 + digit } else { numbers.minor = numbers.minor * 10 + digit }
        digits += 1
      }
    }
    guard digits > 0 else { return nil }
    self.init(major: numbers.major, minor: numbers.minor)
  }

  /// True for every `1.x`.
  public var isSupported: Bool { major == Self.supportedMajor }

  /// `"1.0"`: always both parts, as the report's proposal writes it.
  public var description: String { "\(major).\(minor)" }

  public static func < (lhs: EventVersion, rhs: EventVersion) -> Bool {
    (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
  }

  /// Accepts a string (`"1.0"`) or, leniently, a JSON number (`1`, `1.0`, `1.5`). Events do
  /// not use this (they report errors as `SagaError`); it serves other Codable stores.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let text: String
    if let string = try? container.decode(String.self) {
      text = string
    } else {
      text = Self.text(ofNumber: try container.decode(Double.self))
    }
    guard let version = EventVersion(text) else {
      throw DecodingError.dataCorruptedError(
        in: container, debugDescription: "\(text.debugDescription) is not a major.minor version")
    }
    self = version
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }

  /// A JSON number as version text: `1` and `1.0` both read as `"1.0"`, `1.7` as `"1.7"`.
  /// (A number cannot tell `1.1` from `1.10`; senders should use a string.)
  static func text(ofNumber number: Double) -> String {
    number.description
  }
}
