public import Foundation

/// A Swift value a statement can bind: the stores pass their own types (`Int64`, `String`,
/// `Data`, optionals of them) and each engine binds the `SQLValue`.
public protocol SQLBindable {
  var sqlValue: SQLValue { get }
}

/// A Swift value a row's column can be read as.
public protocol SQLColumnValue: SQLBindable {
  /// The value, or nil when `value` is NULL or of another type.
  init?(sqlValue value: SQLValue)
}

extension SQLColumnValue {
  /// `value` as `Self`, or an error naming the column when it is NULL or does not convert.
  static func decoding(_ value: SQLValue, column: String) throws -> Self {
    guard let decoded = Self(sqlValue: value) else {
      throw StorageError(
        kind: .corrupt, code: 0, path: "",
        message: "column \(column) holds \(value), not a \(Self.self)")
    }
    return decoded
  }
}

extension SQLValue: SQLBindable {
  public var sqlValue: SQLValue { self }
}

extension Optional: SQLBindable where Wrapped: SQLBindable {
  public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

extension Int64: SQLColumnValue {
  public var sqlValue: SQLValue { .integer(self) }
  public init?(sqlValue value: SQLValue) {
    guard let number = value.integer else { return nil }
    self = number
  }
}

extension Int: SQLColumnValue {
  public var sqlValue: SQLValue { .integer(Int64(self)) }
  public init?(sqlValue value: SQLValue) {
    guard let number = value.integer else { return nil }
    self = Int(number)
  }
}

extension Int32: SQLColumnValue {
  public var sqlValue: SQLValue { .integer(Int64(self)) }
  public init?(sqlValue value: SQLValue) {
    guard let number = value.integer, let narrow = Int32(exactly: number) else { return nil }
    self = narrow
  }
}

extension Bool: SQLColumnValue {
  public var sqlValue: SQLValue { .integer(self ? 1 : 0) }
  public init?(sqlValue value: SQLValue) {
    guard let flag = value.bool else { return nil }
    self = flag
  }
}

extension Double: SQLColumnValue {
  public var sqlValue: SQLValue { .real(self) }
  public init?(sqlValue value: SQLValue) {
    switch value {
    case .real(let number): self = number
    case .integer(let number): self = Double(number)
    default: return nil
    }
  }
}

extension String: SQLColumnValue {
  public var sqlValue: SQLValue { .text(self) }
  public init?(sqlValue value: SQLValue) {
    guard case .text(let text) = value else { return nil }
    self = text
  }
}

extension Data: SQLColumnValue {
  public var sqlValue: SQLValue { .blob([UInt8](self)) }
  /// A blob; SQLite hands back text written into a blob column as text, so that reads too.
  public init?(sqlValue value: SQLValue) {
    switch value {
    case .blob(let bytes): self = Data(bytes)
    case .text(let text): self = Data(text.utf8)
    default: return nil
    }
  }
}
