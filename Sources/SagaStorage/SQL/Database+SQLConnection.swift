import Foundation
public import GRDB

/// SQLite's side of the seam: a GRDB connection, with GRDB's statement cache (the stores run
/// the same few statements for every record).
extension Database: SQLConnection {
  public var engine: SQLEngine { .sqlite }

  @discardableResult
  public func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
    try cachedStatement(sql: sql).execute(arguments: Self.arguments(arguments))
    return changesCount
  }

  public func query(_ sql: String, _ arguments: [SQLValue]) throws -> [[SQLValue]] {
    try Row.fetchAll(cachedStatement(sql: sql), arguments: Self.arguments(arguments)).map { row in
      row.databaseValues.map(Self.value)
    }
  }

  private static func arguments(_ values: [SQLValue]) -> StatementArguments {
    StatementArguments(
      values.map { value -> (any DatabaseValueConvertible)? in
        switch value {
        case .null: nil
        case .integer(let number): number
        case .real(let number): number
        case .text(let text): text
        case .blob(let bytes): Data(bytes)
        }
      })
  }

  private static func value(_ value: DatabaseValue) -> SQLValue {
    switch value.storage {
    case .null: .null
    case .int64(let number): .integer(number)
    case .double(let number): .real(number)
    case .string(let text): .text(text)
    case .blob(let data): .blob([UInt8](data))
    }
  }
}
