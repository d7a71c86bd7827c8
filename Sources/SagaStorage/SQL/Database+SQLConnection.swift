import CSQLite
import Foundation
public import GRDB

/// SQLite's side of the seam: a GRDB connection, with GRDB's statement cache (the stores run
/// the same few statements for every record).
extension Database: SQLConnection {
  public var engine: SQLEngine { .sqlite }

  public var location: String { SagaDatabase.path(of: self) }

  @discardableResult
  public func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int {
    if arguments.isEmpty {
      // A script (tests, tools) may hold several statements; the hot paths all bind values.
      try execute(sql: sql)
    } else {
      let statement = try cachedStatement(sql: sql)
      try Self.bind(arguments, to: statement)
      try statement.execute()
    }
    return changesCount
  }

  public func query(_ sql: String, _ arguments: [any SQLBindable]) throws -> [SQLRow] {
    let statement = try cachedStatement(sql: sql)
    let columns = SQLColumnNames(statement.columnNames)
    // GRDB's cursor steps the statement (and keeps its transaction bookkeeping); the columns
    // are read straight from SQLite, without a `DatabaseValue` per column in between.
    try Self.bind(arguments, to: statement)
    let cursor = try Row.fetchCursor(statement)
    let raw = statement.sqliteStatement
    let count = sqlite3_column_count(raw)
    var rows: [SQLRow] = []
    while try cursor.next() != nil {
      var values: [SQLValue] = []
      values.reserveCapacity(Int(count))
      for index in 0..<count {
        values.append(Self.column(index, of: raw))
      }
      rows.append(SQLRow(values, columns: columns))
    }
    return rows
  }

  /// GRDB's `inSavepoint`, with its three statements cached on the connection: parsing
  /// `SAVEPOINT` and `RELEASE` anew for every record was ~5 % of the saga's CPU. Outside a
  /// transaction it is GRDB's `inSavepoint`, which opens one.
  public func savepoint(_ body: () throws -> SavepointCompletion) throws {
    guard isInsideTransaction else {
      return try inSavepoint { try body() == .commit ? .commit : .rollback }
    }
    try SavepointFlow.run(
      open: { try cachedStatement(sql: "SAVEPOINT saga").execute() },
      release: {
        // SQLite may have rolled the whole transaction back (I/O error, full disk):
        // say so rather than releasing a savepoint that no longer exists.
        guard isInsideTransaction else {
          throw DatabaseError(resultCode: .SQLITE_ABORT, message: "Transaction was aborted")
        }
        try cachedStatement(sql: "RELEASE SAVEPOINT saga").execute()
      },
      rollBack: { try cachedStatement(sql: "ROLLBACK TRANSACTION TO SAVEPOINT saga").execute() }, body)
  }

  /// Binds `values` to `statement`'s parameters straight through SQLite's C API. GRDB's
  /// `StatementArguments` validated and copied each value twice more, through a key path and
  /// nested closures per parameter (~15 % of sagad's CPU per saga, measured A/B). GRDB is first
  /// told the statement's arguments are set (none): it then resets and runs the statement
  /// without rebinding. A statement that failed is dropped from GRDB's cache, so a cached one
  /// is always in a state to be reset.
  /// - Throws: `DatabaseError` (SQLITE_MISUSE) when the count does not match the statement's
  ///   parameters, which GRDB's validation would have caught.
  private static func bind(_ values: [any SQLBindable], to statement: Statement) throws {
    let raw = statement.sqliteStatement
    let expected = Int(sqlite3_bind_parameter_count(raw))
    guard expected == values.count else {
      throw DatabaseError(
        resultCode: .SQLITE_MISUSE,
        message: "wrong number of statement arguments: \(values.count), expected \(expected)",
        sql: statement.sql)
    }
    statement.setUncheckedArguments(StatementArguments())
    for (offset, value) in values.enumerated() {
      let index = Int32(offset + 1)
      let code: Int32
      switch value.sqlValue {
      case .null: code = sqlite3_bind_null(raw, index)
      case .integer(let number): code = sqlite3_bind_int64(raw, index, number)
      case .real(let number): code = sqlite3_bind_double(raw, index, number)
      case .text(var text):
        code = text.withUTF8 { utf8 in
          utf8.withMemoryRebound(to: CChar.self) {
            sagad_sqlite3_bind_text(raw, index, $0.baseAddress, Int32(utf8.count))
          }
        }
      case .blob(let bytes):
        code = bytes.withUnsafeBytes { sagad_sqlite3_bind_blob(raw, index, $0.baseAddress, Int32($0.count)) }
      }
      // Binding only fails for a bad index or a value past SQLite's length limit.
      guard code == SQLITE_OK else {
        throw DatabaseError(
          resultCode: ResultCode(rawValue: code), message: "cannot bind parameter \(index)", sql: statement.sql)
      }
    }
  }

  /// Column `index` of the row `statement` stands on.
  private static func column(_ index: Int32, of statement: SQLiteStatement) -> SQLValue {
    switch sqlite3_column_type(statement, index) {
    case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
    case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, index))
    case SQLITE_TEXT:
      // Text first, then its length: asking for the length first could convert it.
      guard let text = sqlite3_column_text(statement, index) else { return .text("") }
      let length = Int(sqlite3_column_bytes(statement, index))
      return .text(String(decoding: UnsafeBufferPointer(start: text, count: length), as: UTF8.self))
    case SQLITE_BLOB:
      guard let bytes = sqlite3_column_blob(statement, index) else { return .blob([]) }
      let length = Int(sqlite3_column_bytes(statement, index))
      return .blob([UInt8](UnsafeRawBufferPointer(start: bytes, count: length)))
    default: return .null
    }
  }
}
