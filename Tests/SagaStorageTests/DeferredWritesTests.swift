import Foundation
import SagaTestSupport
import Testing

@testable import SagaStorage

/// `executeDeferred`: PostgreSQL holds writes back and sends them as CTEs with the next
/// statement; SQLite runs them at once. Either way a transaction must see what it wrote.
@Suite("Deferred writes", .postgresServer, .timeLimit(.minutes(2)))
struct DeferredWritesTests {
  private static let insert = inboxInsert
  private static let bump = #"UPDATE inbox SET "offset" = "offset" + 10 WHERE consumer_group = ?"#

  @Test(
    "held inserts and updates apply in order: an update sees the rows held before it, two updates both count",
    arguments: SQLEngine.allCases)
  func order(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let offsets = try await database.write { db -> [Int64] in
        try db.executeDeferred(Self.insert, ["g", "e-1", 1])
        try db.executeDeferred(Self.insert, ["g", "e-2", 2])
        try db.executeDeferred(Self.bump, ["g"])
        try db.executeDeferred(Self.bump, ["g"])
        // An outbox row's INSERT names no held table: on PostgreSQL the last update rides with it.
        _ = try Outbox.append(message(), in: db)
        return try db.query(#"SELECT "offset" FROM inbox ORDER BY event_id"#).map { try $0.decode(0) }
      }
      #expect(offsets == [21, 22])
    }
  }

  @Test(
    "a held write commits with its transaction and is dropped with a savepoint that rolls back",
    arguments: SQLEngine.allCases)
  func commitAndRollback(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      try await database.write { db in
        try db.executeDeferred(Self.insert, ["g", "kept", 1])
        try db.savepoint {
          try db.executeDeferred(Self.insert, ["g", "undone", 2])
          return .rollback
        }
        try db.executeDeferred(Self.insert, ["g", "last", 3])
      }
      let ids = try await database.read { db in
        try db.query("SELECT event_id FROM inbox ORDER BY event_id").map { row -> String in try row.decode(0) }
      }
      #expect(ids == ["kept", "last"])
    }
  }

  @Test(
    "a held write that fails fails at the latest in flushDeferred, as a constraint error", arguments: SQLEngine.allCases
  )
  func failure(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      try await database.write { db in _ = try db.executeDeferred(Self.insert, ["g", "e-1", 1]) }
      let error = await #expect(throws: StorageError.self) {
        try await database.write { db in
          try db.executeDeferred(Self.insert, ["g", "e-1", 2])
          try db.flushDeferred()
        }
      }
      #expect(error?.kind == .constraint)
      #expect(try await database.read { db in try Inbox.count(in: db) } == 1)
    }
  }

  @Test(
    "writes of one text go as rows of one statement: every row inserted, every key updated once per write",
    arguments: SQLEngine.allCases)
  func coalescing(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let offsets = try await database.write { db -> [Int64] in
        // More rows than one held write gathers, then an update per row, then one row again.
        for n in 1...100 { try db.executeDeferred(Self.insert, ["g\(n)", "e-\(n)", Int64(n)]) }
        let bump = #"UPDATE inbox SET "offset" = "offset" + ?, processed_at = ? WHERE consumer_group = ?"#
        for n in 1...100 { try db.executeDeferred(bump, [Int64(1_000), Int64(n), "g\(n)"]) }
        try db.executeDeferred(bump, [Int64(10_000), Int64(0), "g7"])
        return try db.query(#"SELECT "offset" FROM inbox ORDER BY "offset""#).map { try $0.decode(0) }
      }
      // Every row once (+1,000), g7 twice (+11,000).
      let once: [Int64] = (Int64(1)...100).filter { $0 != 7 }.map { 1_000 + $0 }
      #expect(offsets == once + [11_007])
      let stamps = try await database.read { db in
        try db.query("SELECT processed_at FROM inbox ORDER BY processed_at").map { row -> Int64 in try row.decode(0) }
      }
      #expect(stamps.first == 0 && stamps.count == 100 && Set(stamps).count == 100)
    }
  }

  @Test("which writes coalesce, and the statements they make")
  func coalescingRules() throws {
    func write(_ sql: String, _ arguments: [SQLValue]) throws -> DeferredWrites.Write {
      try #require(DeferredWrites.write(sql, arguments))
    }
    var held = DeferredWrites()
    held.hold(try write("INSERT INTO outbox (a, b) VALUES (?, 0)", [1]))
    #expect(held.accepts(try write("INSERT INTO outbox (a, b) VALUES (?, 0)", [2])))
    held.hold(try write("INSERT INTO outbox (a, b) VALUES (?, 0)", [2]))
    #expect(!held.accepts(try write("INSERT INTO outbox (b, a) VALUES (0, ?)", [3])), "another text")
    let update = "UPDATE wallets SET balance = balance + ?, updated_at = ? WHERE user_id = ?"
    held.hold(try write(update, [5, 9, 7]))
    #expect(held.accepts(try write(update, [6, 9, 8])))
    #expect(!held.accepts(try write(update, [6, 9, 7])), "user 7's wallet once per statement")
    #expect(!held.accepts(try write(update, [.null, 9, 8])), "a NULL gives the VALUES column no type")
    #expect(!held.accepts(try write(update, [.text("6"), 9, 8])), "the rows' kinds must agree")
    held.hold(try write(update, [6, 9, 8]))
    let merged = DeferredWrites.merged(held.take(), before: nil)
    // One array per parameter: the same text for any number of rows.
    #expect(
      merged.sql
        == "WITH d1 AS (INSERT INTO outbox (a, b) SELECT v.a1, 0 FROM unnest(CAST(? AS BIGINT[]))"
        + " WITH ORDINALITY AS v(a1, n) ORDER BY v.n) UPDATE wallets SET balance = balance + v.a1,"
        + " updated_at = v.a2 FROM unnest(CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[]))"
        + " AS v(a1, a2, a3) WHERE wallets.user_id = v.a3 AND wallets.user_id = ANY(CAST(? AS BIGINT[]))")
    #expect(merged.arguments == ["{1,2}", "{5,6}", "{9,9}", "{7,8}", "{7,8}"])

    // A parameter NULL in every row needs no array; one whose rows differ in kind has none,
    // and its rows go as VALUES.
    var ledger = DeferredWrites()
    let entry = "INSERT INTO ledger (a, payment) VALUES (?, ?)"
    ledger.hold(try write(entry, [1, .null]))
    ledger.hold(try write(entry, [2, .null]))
    #expect(
      DeferredWrites.merged(ledger.take(), before: nil)
        == (
          "INSERT INTO ledger (a, payment) SELECT v.a1, NULL FROM unnest(CAST(? AS BIGINT[]))"
            + " WITH ORDINALITY AS v(a1, n) ORDER BY v.n", ["{1,2}"]
        ))
    ledger.hold(try write(entry, [1, 5]))
    ledger.hold(try write(entry, [2, "5"]))
    #expect(
      DeferredWrites.merged(ledger.take(), before: nil)
        == ("INSERT INTO ledger (a, payment) VALUES (?, ?), (?, ?)", [1, 5, 2, "5"]))

    for sql in [
      "INSERT INTO t (a) VALUES (?) ON CONFLICT DO NOTHING", "INSERT INTO t (a) VALUES (?) RETURNING id",
      "UPDATE t SET a = ? WHERE id = ? AND status = 'PAID'", "UPDATE t SET a = ?",
    ] {
      var one = DeferredWrites()
      let arguments: [SQLValue] = sql.contains("WHERE") ? [1, 2] : [1]
      one.hold(try write(sql, arguments))
      #expect(!one.accepts(try write(sql, arguments.map { $0 == 1 ? 3 : 4 })), "\(sql)")
    }
    var full = DeferredWrites()
    for n in 1...DeferredWrites.maxRows { full.hold(try write("INSERT INTO t (a) VALUES (?)", [.integer(Int64(n))])) }
    #expect(!full.accepts(try write("INSERT INTO t (a) VALUES (?)", [0])), "at most maxRows rows a statement")
  }

  @Test("a column's rows as one array literal: escaped text and bytes, NULL elements, no array for mixed kinds")
  func columnArrays() throws {
    let rows: [SQLValue] = [
      1, #"say "hi" \ {a,b} 'x' NULL"#, .blob([0, 171, 255]), .real(1.5),
      .null, "", .null, .real(.infinity),
    ]
    let columns = try #require(ColumnArrays(rows, rows: 2))
    #expect(columns.kinds == [.integer, .text, .blob, .real])
    #expect(
      columns.literals == [
        "{1,NULL}", #"{"say \"hi\" \\ {a,b} 'x' NULL",""}"#, #"{"\\x00abff",NULL}"#, "{1.5,Infinity}",
      ])
    #expect(ColumnArrays([1, "1"], rows: 2) == nil, "an integer and a text share no array type")
    let untyped = try #require(ColumnArrays([1, .null, 2, .null], rows: 2))
    #expect(untyped.kinds == [.integer, .null] && untyped.literals == ["{1,2}"], "NULL in every row: no array")
    #expect(ColumnArrays([.null, .null], rows: 2) == nil, "nothing to unnest")
  }

  @Test(
    "rows written through arrays read back unchanged, in the order written", arguments: SQLEngine.allCases)
  func arrayRoundTrip(engine: SQLEngine) async throws {
    let odd = #"quote " backslash \ comma , braces {} apostrophe ' NULL"#
    let rows: [[SQLValue]] = [
      [1, "plain", .blob([0, 1, 2]), .real(1.5)],
      [2, .text(odd), .null, .real(-0.25)],
      [3, "", .blob([255]), .null],
      [4, .null, .blob(Array("\\x{}\"".utf8)), .real(2)],
    ]
    // And columns NULL in every row (a number, bytes), which the statement writes as NULL.
    let untyped: [[SQLValue]] = [[.null, "e", .null, .real(3)], [.null, "f", .null, .real(4)]]
    try await withDatabase(on: engine) { database in
      let read = try await database.write { db -> [[SQLValue]] in
        let serial = engine == .postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
        try db.execute("CREATE TEMP TABLE odd (seq \(serial), n BIGINT, t TEXT, b BYTEA, r DOUBLE PRECISION)")
        for row in rows.reversed() { try db.executeDeferred("INSERT INTO odd (n, t, b, r) VALUES (?, ?, ?, ?)", row) }
        // Another text: a statement of its own.
        for row in untyped { try db.executeDeferred("INSERT INTO odd (n, t, b, r) VALUES (?, ?, ?, (?))", row) }
        return try db.query("SELECT n, t, b, r FROM odd ORDER BY seq").map(\.values)
      }
      #expect(read == rows.reversed() + untyped)
    }
  }

  /// A prepared statement's generic plan is made once, from the table's size then: a
  /// coalesced UPDATE prepared while its table was small must still probe the key's index
  /// once the table has grown, not read all of it for every batch.
  @Test("a coalesced UPDATE prepared on a small table probes the key's index once the table has grown")
  func coalescedUpdatePlan() async throws {
    try await withDatabase(on: .postgres) { database in
      let plan = try await database.write { db -> [String] in
        try db.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        try db.execute("CREATE TEMP TABLE accounts (id BIGINT PRIMARY KEY, n BIGINT NOT NULL) ON COMMIT DROP")
        try db.execute("INSERT INTO accounts SELECT g, 0 FROM generate_series(1, 300) g")
        let update = "UPDATE accounts SET n = ? WHERE id = ?"
        try db.executeDeferred(update, [1, 1])
        try db.executeDeferred(update, [2, 2])
        // Prepared and planned now, with 300 rows.
        try db.flushDeferred()
        try db.execute("INSERT INTO accounts SELECT g, 0 FROM generate_series(301, 50000) g")
        // Not this SELECT's own prepared statement, whose text names it too.
        let found = try db.query(
          "SELECT name FROM pg_prepared_statements WHERE statement LIKE '%UPDATE accounts%'"
            + " AND statement NOT LIKE '%pg_prepared_statements%'")
        let name: String = try #require(found.first).decode(0)
        let held = try #require(DeferredWrites.write(update, [3, 3]))
        var rows = held
        rows.arguments += [4, 4]
        rows.rows = 2
        let bound = rows.bound
        let explained = try db.query("EXPLAIN " + PreparedStatements.execute(name, bound.arguments))
        return try explained.map { try $0.decode(0) }
      }
      #expect(plan.contains { $0.contains("Index") }, "\(plan)")
      #expect(!plan.contains { $0.contains("Seq Scan on accounts") }, "\(plan)")
    }
  }

  @Test("what is held, what goes in front of what, and the merged statement")
  func rules() throws {
    let insert = try #require(DeferredWrites.write(#"INSERT INTO "Outbox" (a) VALUES (?)"#, [1]))
    #expect(insert.table == "outbox" && !insert.isUpdate)
    let update = try #require(DeferredWrites.write("UPDATE wallets SET balance = ? WHERE user_id = ?", [5, 7]))
    #expect(update.table == "wallets" && update.isUpdate)
    #expect(DeferredWrites.write("UPDATE t SET a = (SELECT max(a) FROM u)", []) == nil)
    #expect(DeferredWrites.write("DELETE FROM t WHERE id = ?", [1]) == nil)
    #expect(DeferredWrites.write("INSERT INTO t SELECT * FROM u", []) == nil)

    var held = DeferredWrites()
    held.hold(insert)
    #expect(
      !held.accepts(try #require(DeferredWrites.write("INSERT INTO outbox (b) VALUES (?)", [2]))),
      "one held write per table: the parts of a statement take identity values in no promised order")
    #expect(!held.accepts(try #require(DeferredWrites.write("UPDATE outbox SET a = 1", []))))
    held.hold(update)
    #expect(!held.accepts(update), "a second update of wallets waits for the first to be sent")
    #expect(held.canPrecede("INSERT INTO point_saga_steps (outbox_ids) VALUES (?)"))
    #expect(!held.canPrecede("SELECT balance FROM Wallets WHERE user_id = ?"))
    #expect(!held.canPrecede(#"SELECT * FROM "outbox""#))
    #expect(held.canPrecede(#"SELECT * FROM "outbox""#, namingTheirTables: true), "the caller vouches")
    #expect(!held.canPrecede("SAVEPOINT saga", namingTheirTables: true))
    #expect(held.canPrecede("SELECT id FROM outbox_archive, wallets2"), "whole words only")
    #expect(!held.canPrecede("SAVEPOINT saga"))
    #expect(!held.canPrecede("WITH x AS (SELECT 1) SELECT * FROM x"))

    let merged = DeferredWrites.merged(held.take(), before: ("SELECT ? FROM users", [9]))
    #expect(
      merged.sql
        == #"WITH d1 AS (INSERT INTO "Outbox" (a) VALUES (?)), d2 AS (UPDATE wallets SET balance = ? WHERE user_id = ?) SELECT ? FROM users"#
    )
    #expect(merged.arguments == [1, 5, 7, 9])
    #expect(held.isEmpty)
    let alone = DeferredWrites.merged([insert, update], before: nil)
    #expect(alone.sql.hasSuffix(") UPDATE wallets SET balance = ? WHERE user_id = ?") && alone.arguments == [1, 5, 7])
  }
}
