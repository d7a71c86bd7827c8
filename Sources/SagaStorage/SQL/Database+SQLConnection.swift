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
      try cachedStatement(sql: sql).execute(arguments: Self.arguments(arguments))
    }
    return changesCount
  }

  public func query(_ sql: String, _ arguments: [any SQLBindable]) throws -> [SQLRow] {
    let statement = try cachedStatement(sql: sql)
    let columns = SQLColumnNames(statement.columnNames)
    // A cursor reads each row in place: `fetchAll` would copy every row first.
    let cursor = try Row.fetchCursor(statement, arguments: Self.arguments(arguments))
    var rows: [SQLRow] = []
    while let row = try cursor.next() {
      var values: [SQLValue] = []
      values.reserveCapacity(row.count)
      for index in 0..<row.count {
        values.append(Self.value(row[index]))
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

  /// Concrete `DatabaseValue`s: GRDB's generic initializer then takes them as they are, where
  /// optional existentials cost a conversion each.
  private static func arguments(_ values: [any SQLBindable]) -> StatementArguments {
    var bound: [DatabaseValue] = []
    bound.reserveCapacity(values.count)
    for value in values {
      switch value.sqlValue {
      case .null: bound.append(.null)
      case .integer(let number): bound.append(number.databaseValue)
      case .real(let number): bound.append(number.databaseValue)
      case .text(let text): bound.append(text.databaseValue)
      case .blob(let bytes): bound.append(Data(bytes).databaseValue)
      }
    }
    return StatementArguments(bound)
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
