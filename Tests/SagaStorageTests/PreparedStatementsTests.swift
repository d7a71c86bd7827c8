import Foundation
import SagaTestSupport
import Testing

@testable import SagaStorage

/// A PostgreSQL connection prepares the statements it sends again (`PREPARE`/`EXECUTE`): the
/// caller must not be able to tell, by rows, counts or errors, and a transaction that rolls
/// back must not leave the connection's record of what is prepared wrong.
@Suite("Prepared statements", .postgresServer, .timeLimit(.minutes(2)))
struct PreparedStatementsTests {
  private static let insert = """
    INSERT INTO inbox (consumer_group, event_id, topic, "partition", "offset", processed_at)
    VALUES (?, ?, 'reservation-completed', ?, COALESCE(?, -1), 0)
    """
  private static let bump = #"UPDATE inbox SET "offset" = "offset" + 1 WHERE consumer_group = ?"#

  private static func prepared(_ db: any SQLConnection) throws -> Int {
    try #require(db as? PostgresSQLConnection).preparedCount
  }

  @Test("a statement sent again is prepared once; rows, affected-row counts and NULLs come back as unprepared")
  func sameAnswers() async throws {
    for prepares in [true, false] {
      let (answers, count) = try await withOneConnection(prepares: prepares) { database in
        try await database.write { db -> ([String], Int) in
          let before = try Self.prepared(db)
          for n in 1...3 { try db.execute(Self.insert, ["g", "e-\(n)", n, n]) }
          // The same text with a NULL where a number was is another statement to the server.
          try db.execute(Self.insert, ["g", "e-4", 4, Int64?.none])
          let bumped = [try db.execute(Self.bump, ["g"]), try db.execute(Self.bump, ["g"])]
          let rows = try db.query(
            #"SELECT event_id, "offset" FROM inbox WHERE "partition" >= ? ORDER BY event_id"#, [2])
          let answers =
            rows.map { row in "\((try? row.decode(0) as String) ?? "?")=\((try? row.decode(1) as Int64) ?? 0)" }
            + bumped.map(String.init)
          return (answers, try Self.prepared(db) - before)
        }
      }
      #expect(answers == ["e-2=4", "e-3=5", "e-4=1", "4", "4"], "prepares: \(prepares)")
      #expect(count == (prepares ? 4 : 0), "insert, insert with NULL, update, select; prepares: \(prepares)")
    }
  }

  @Test("a statement prepared in a transaction that rolls back stays prepared, and its errors keep their kind")
  func rollback() async throws {
    try await withOneConnection { database in
      let error = await #expect(throws: StorageError.self) {
        try await database.write { db in
          try db.execute(Self.insert, ["g", "e-1", 1, 1])
          try db.execute(Self.insert, ["g", "e-1", 1, 1])
        }
      }
      #expect(error?.kind == .constraint)
      let count = try await database.write { db -> Int in
        let before = try Self.prepared(db)
        try db.execute(Self.insert, ["g", "e-1", 1, 1])
        return try Self.prepared(db) - before
      }
      #expect(count == 0, "the insert ran as the statement prepared in the rolled-back transaction")
      #expect(try await database.read { db in try Inbox.count(in: db) } == 1)
    }
  }

  /// The `PREPARE` goes unanswered in front of its first `EXECUTE`: when it fails, the error
  /// is its own (not the `EXECUTE`'s "does not exist"), and the connection does not go on
  /// executing a name the server never took.
  @Test("a PREPARE that fails reports its own error, and the statement is prepared anew once it can be")
  func failedPrepare() async throws {
    try await withOneConnection { database in
      let count = "SELECT count(*) FROM not_yet WHERE id > ?"
      let error = await #expect(throws: StorageError.self) {
        try await database.write { db in _ = try db.query(count, [0]) }
      }
      #expect(error?.sqlState == "42P01", "undefined table, not 26000: \(String(describing: error))")
      try await database.write { db in _ = try db.execute("CREATE TABLE not_yet (id BIGINT)") }
      try await database.write { db in _ = try db.execute("INSERT INTO not_yet VALUES (1), (2)") }
      let rows = try await database.read { db in
        try #require(try db.query(count, [0]).first).decode(0) as Int64
      }
      #expect(rows == 2)
    }
  }

  @Test(
    "statements the server lost (a pooler's DEALLOCATE ALL) fail the transaction as retriable, and are prepared anew")
  func lost() async throws {
    try await withOneConnection { database in
      try await database.write { db in _ = try db.execute(Self.insert, ["g", "e-1", 1, 1]) }
      try await database.write { db in _ = try db.execute("DEALLOCATE ALL") }
      let error = await #expect(throws: StorageError.self) {
        try await database.write { db in _ = try db.execute(Self.insert, ["g", "e-2", 1, 2]) }
      }
      #expect(error?.isRetriable == true && error?.sqlState == "26000")
      try await database.write { db in _ = try db.execute(Self.insert, ["g", "e-2", 1, 2]) }
      #expect(try await database.read { db in try Inbox.count(in: db) } == 2)
    }
  }

  @Test("values travel as literals: quotes, backslashes, bytes, extremes and NULL come back as they were sent")
  func literals() async throws {
    let values: [SQLValue] = [
      .text(#"it's a \"quoted\" \\ back\slash; '); DROP TABLE inbox; --"#), .text("Grüße, 支払い 💸"), .text(""),
      .blob([0, 1, 39, 92, 127, 128, 255]), .blob([]), .real(0.1), .real(-1.5e-300), .real(.infinity),
      .integer(.min), .integer(.max), .integer(-1), .null,
    ]
    #expect(
      PreparedStatements.execute("s1", [.integer(-3), .text("it's"), .null, .blob([0, 255]), .real(0.5)])
        == #"EXECUTE s1(-3, 'it''s', NULL, '\x00ff', 0.5)"#)
    let sql =
      "SELECT ?::text, ?::text, ?::text, ?::bytea, ?::bytea, ?::float8, ?::float8, ?::float8, ?::int8, ?::int8, ?::int8, ?::text"
    let rows = try await withOneConnection { database in
      try await database.read { db in
        try (1...2).map { _ in try #require(db.query(sql, values.map { $0 as any SQLBindable }).first) }
      }
    }
    for row in rows { #expect(row.values == values) }
  }

  @Test("placeholders are numbered outside quotes, in texts of any size")
  func numbering() {
    #expect(
      PostgresSQLConnection.numbered(#"SELECT ?, '?', "a?b", 'ü' || ? FROM t WHERE x = ?"#)
        == #"SELECT $1, '?', "a?b", 'ü' || $2 FROM t WHERE x = $3"#)
    let long = "INSERT INTO t (a) VALUES " + repeatElement("(?)", count: 2_000).joined(separator: ", ")
    let numbered = PostgresSQLConnection.numbered(long)
    #expect(numbered.hasPrefix("INSERT INTO t (a) VALUES ($1), ($2), ($3)") && numbered.hasSuffix("($1999), ($2000)"))
  }

  @Test("what is prepared: plain statements with few parameters, each text and parameter types once")
  func plans() throws {
    var statements = PreparedStatements()
    // `plan` counts executions: a mutating call, outside the macros.
    func plan(_ sql: String, _ values: [SQLValue]) -> (name: String, prepare: String?, replaces: String?)? {
      statements.plan(sql, values)
    }
    let first = try #require(plan("SELECT a FROM t WHERE b = $1", [.integer(1)]))
    #expect(first.prepare == "PREPARE s1 (int8) AS SELECT a FROM t WHERE b = $1" && first.name == "s1")
    statements.prepared("SELECT a FROM t WHERE b = $1", values: [.integer(1)], name: first.name)
    let again = try #require(plan("SELECT a FROM t WHERE b = $1", [.integer(7)]))
    #expect(again.prepare == nil && again.name == "s1")
    let null = try #require(plan("SELECT a FROM t WHERE b = $1", [.null]))
    #expect(null.prepare == "PREPARE s2 (unknown) AS SELECT a FROM t WHERE b = $1")
    #expect(plan("with x AS (SELECT 1) SELECT * FROM x", [])?.name == "s2")
    for text in ["SAVEPOINT saga", "COMMIT", "DISCARD ALL", "PREPARE p AS SELECT 1", "EXECUTE p"] {
      #expect(plan(text, []) == nil, "\(text)")
    }
    let many = [SQLValue](repeating: .integer(1), count: PreparedStatements.maxParameters + 1)
    #expect(plan("INSERT INTO t VALUES ($1)", many) == nil)
    statements.forgetAll()
    #expect(statements.count == 0)
    #expect(plan("SELECT a FROM t WHERE b = $1", [.integer(1)])?.name == "s2", "names are never reused")
  }

  @Test("a statement is prepared again after 16 executions, then after 128 more, each time replacing the last")
  func replans() throws {
    var statements = PreparedStatements()
    let sql = "SELECT a FROM t WHERE b = $1"
    var prepared: [Int] = []
    var replaced: [String?] = []
    for execution in 1...(16 + 128 + 1) {
      let next = statements.plan(sql, [.integer(Int64(execution))])
      let plan = try #require(next)
      guard plan.prepare != nil else { continue }
      prepared.append(execution)
      replaced.append(plan.replaces)
      statements.prepared(sql, values: [.integer(1)], name: plan.name)
    }
    #expect(prepared == [1, 17, 145])
    #expect(replaced == [nil, "s1", "s2"])
    #expect(statements.count == 1)
  }

  @Test("prepared again after 1 s, then 2 s, 4 s, …, whatever the executions: a plan made on a young table")
  func replansByAge() throws {
    var statements = PreparedStatements()
    let sql = "SELECT a FROM t WHERE b = $1"
    let start = ContinuousClock.now
    var prepared: [Duration] = []
    // One execution every 100 ms for 8 s: too few for the count to make a plan due.
    for tick in 0...80 {
      let now = start + .milliseconds(100 * tick)
      let next = statements.plan(sql, [.integer(1)], at: now)
      let plan = try #require(next)
      guard plan.prepare != nil else { continue }
      prepared.append(now - start)
      statements.prepared(sql, values: [.integer(1)], name: plan.name, at: now)
    }
    #expect(prepared == [.zero, .seconds(1), .seconds(3), .seconds(7)])
    #expect(statements.count == 1)
  }

  @Test("prepared again on the server: the old statement deallocated, the answers unchanged")
  func replansOnTheServer() async throws {
    try await withOneConnection { database in
      let (counts, prepared) = try await database.write { db -> ([Int], [String]) in
        var counts: [Int] = []
        for n in 1...(PreparedStatements.firstReplan + 2) {
          try db.execute(Self.insert, ["g", "e-\(n)", n, n])
          counts.append(try db.query("SELECT count(*) FROM inbox").first?.decode(0) ?? -1)
        }
        let prepared: [String] = try db.query(
          "SELECT name FROM pg_prepared_statements WHERE statement LIKE '%INSERT INTO inbox%'"
            + " AND statement NOT LIKE '%pg_prepared_statements%'"
        ).map { try $0.decode(0) }
        return (counts, prepared)
      }
      #expect(counts == Array(1...(PreparedStatements.firstReplan + 2)))
      #expect(prepared.count == 1, "the first plan's statement is gone: \(prepared)")
    }
  }
}
