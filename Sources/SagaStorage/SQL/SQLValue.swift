/// A value bound to, or read from, a statement of either engine.
public enum SQLValue: Sendable, Hashable {
  case null
  case integer(Int64)
  case real(Double)
  case text(String)
  case blob([UInt8])

  public var isNull: Bool { self == .null }

  public var integer: Int64? {
    switch self {
    case .integer(let value): value
    case .text(let text): Int64(text)
    default: nil
    }
  }

  public var text: String? {
    if case .text(let text) = self { return text }
    return nil
  }

  /// SQLite has no booleans: 0 and 1; PostgreSQL's `EXISTS` answers `true`/`false`, read as 1/0.
  public var bool: Bool? { integer.map { $0 != 0 } }
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
  public init(stringLiteral value: String) { self = .text(value) }
  public init(integerLiteral value: Int64) { self = .integer(value) }
  public init(nilLiteral: ()) { self = .null }
}
