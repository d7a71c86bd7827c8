import Foundation
import GRDB
import Testing

@testable import SagaStorage

/// The SQLite side of the seam binds values through SQLite's C API itself (not GRDB's
/// `StatementArguments`): each kind must arrive as the same SQLite type and bytes, the empty
/// string and blob must not turn into NULL, and a wrong count must fail as GRDB's did.
@Suite("SQLite binding")
struct SQLiteBindingTests {
  private static let insert = "INSERT INTO t (k, v) VALUES (?, ?)"

  private func withTable<T>(_ body: (Database) throws -> T) throws -> T {
    let queue = try DatabaseQueue()
    return try queue.write { db in
      try db.execute(sql: "CREATE TABLE t (k TEXT PRIMARY KEY, v)")
      return try body(db)
    }
  }

  @Test("every kind of value comes back with its SQLite type and bytes, empty ones not NULL")
  func kinds() throws {
    let answers = try withTable { db -> [String] in
      let values: [(String, any SQLBindable)] = [
        ("int", Int64.min), ("real", 2.5), ("text", "한국어 ✓ 'q'"), ("empty-text", ""),
        ("blob", Data([0, 1, 255])), ("empty-blob", Data()), ("null", Int64?.none),
      ]
      for (key, value) in values { try db.execute(Self.insert, [key, value]) }
      return try db.query("SELECT k, typeof(v), quote(v) FROM t ORDER BY rowid", []).map { row in
        "\(try row.decode(0) as String) \(try row.decode(1) as String) \(try row.decode(2) as String)"
      }
    }
    #expect(
      answers == [
        "int integer -9223372036854775808", "real real 2.5", "text text '한국어 ✓ ''q'''", "empty-text text ''",
        "blob blob X'0001FF'", "empty-blob blob X''", "null null NULL",
      ])
  }

  @Test("a statement run again with other values sees only the new ones")
  func rebinding() throws {
    let rows = try withTable { db -> [String] in
      try db.execute(Self.insert, ["a", "first"])
      try db.execute(Self.insert, ["b", Int64?.none])
      return try db.query("SELECT k || '=' || coalesce(v, 'NULL') FROM t WHERE k >= ? ORDER BY k", ["a"]).map {
        try $0.decode(0) as String
      }
    }
    #expect(rows == ["a=first", "b=NULL"])
  }

  @Test("too few or too many values fail with SQLITE_MISUSE and write nothing")
  func wrongCount() throws {
    let (errors, count) = try withTable { db -> ([ResultCode?], Int64) in
      var errors: [ResultCode?] = []
      for values: [any SQLBindable] in [["only-key"], ["k", 1, 2]] {
        do {
          try db.execute(Self.insert, values)
          errors.append(nil)
        } catch let error as DatabaseError {
          errors.append(error.resultCode)
        }
      }
      do {
        _ = try db.query("SELECT v FROM t WHERE k = ?", [])
        errors.append(nil)
      } catch let error as DatabaseError {
        errors.append(error.resultCode)
      }
      return (errors, try db.query("SELECT count(*) FROM t", [])[0].decode(0) as Int64)
    }
    #expect(errors == [ResultCode.SQLITE_MISUSE, .SQLITE_MISUSE, .SQLITE_MISUSE])
    #expect(count == 0)
  }
}
