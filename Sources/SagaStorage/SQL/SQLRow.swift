/// One row a query returned: its values in column order, readable by position (what the hot
/// paths do) or by column name, as the Swift type the caller asks for.
///
/// `let id: Int64 = try row.decode(0)` throws on NULL; `row.optional(3) as String?` reads NULL
/// as nil. A value of the wrong type is corrupt data and throws a `StorageError`.
///
/// The subscripts (`let id: Int64 = row[0]`, `row["reason"] as String?`) read the same way but
/// stop the process on a NULL or a wrong type, as GRDB's rows do: for columns whose schema
/// (NOT NULL, CHECK) already rules that out.
public struct SQLRow: Sendable {
  public let values: [SQLValue]
  private let columns: SQLColumnNames

  public init(_ values: [SQLValue], columns: SQLColumnNames) {
    self.values = values
    self.columns = columns
  }

  public func hasNull(atIndex index: Int) -> Bool { values[index].isNull }

  public func decode<T: SQLColumnValue>(_ index: Int, as type: T.Type = T.self) throws -> T {
    try T.decoding(values[index], column: name(at: index))
  }

  public func optional<T: SQLColumnValue>(_ index: Int, as type: T.Type = T.self) throws -> T? {
    let value = values[index]
    return value.isNull ? nil : try T.decoding(value, column: name(at: index))
  }

  public func decode<T: SQLColumnValue>(_ column: String, as type: T.Type = T.self) throws -> T {
    try decode(index(of: column))
  }

  public func optional<T: SQLColumnValue>(_ column: String, as type: T.Type = T.self) throws -> T? {
    try optional(index(of: column))
  }

  public subscript<T: SQLColumnValue>(_ index: Int) -> T {
    do { return try decode(index) } catch { preconditionFailure("\(error)") }
  }

  public subscript<T: SQLColumnValue>(_ index: Int) -> T? {
    do { return try optional(index) } catch { preconditionFailure("\(error)") }
  }

  public subscript<T: SQLColumnValue>(_ column: String) -> T {
    do { return try decode(column) } catch { preconditionFailure("\(error)") }
  }

  public subscript<T: SQLColumnValue>(_ column: String) -> T? {
    do { return try optional(column) } catch { preconditionFailure("\(error)") }
  }

  func name(at index: Int) -> String {
    index < columns.names.count ? columns.names[index] : "#\(index)"
  }

  private func index(of column: String) throws -> Int {
    guard let index = columns.index(of: column) else {
      throw StorageError(kind: .other, code: 0, path: "", message: "no column \(column) in the row")
    }
    return index
  }
}

/// The column names of one query's rows, shared by all of them.
public final class SQLColumnNames: Sendable {
  public let names: [String]

  public init(_ names: [String]) { self.names = names }

  /// The column named `column`, case-insensitively as SQL names are; the exact spelling, which
  /// the stores use, is found without lowercasing every name.
  func index(of column: String) -> Int? {
    if let exact = names.firstIndex(of: column) { return exact }
    let wanted = column.lowercased()
    return names.firstIndex { $0.lowercased() == wanted }
  }
}
