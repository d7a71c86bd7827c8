import Foundation
import GRDB
import SagaStorage
import Testing

/// The outbox's headers column, written and read by hand (HeaderJSON), and the storage
/// helpers the hot paths use instead of GRDB's defaults.
@Suite("Outbox headers column and hot-path helpers", .timeLimit(.minutes(2)))
struct HeaderColumnTests {
  @Test("awkward header values round-trip and the column stays JSON that SQLite can read")
  func awkwardValuesRoundTrip() async throws {
    try await withDatabase { database in
      let values = [
        "", "plain", "\"quoted\" \\back\\ /slash/", "tab\tline\ncr\r", "nul\u{0}bell\u{7}del\u{7F}", "é 🎟️ 포인트",
        "\u{2028}\u{FEFF}",
      ]
      let headers = values.enumerated().map { OutboxHeader(name: "h\($0.offset) \"n\"", value: $0.element) }
      let id = try await database.write { db in
        try Outbox.append(OutboxMessage(topic: "t", key: "k", payload: [1], headers: headers), in: db)
      }
      let read = try await database.read { db in try Outbox.pending(limit: 10, in: db) }
      #expect(read.first?.headers == headers)
      let extracted = try await database.read { db in
        try (0..<values.count).map { index in
          try String.fetchOne(
            db, sql: "SELECT json_extract(headers, '$[\(index)][1]') FROM outbox WHERE id = ?", arguments: [id])
        }
      }
      // json_extract hands back text as a C string, so the value with a NUL is cut there;
      // the round trip above is what matters for it.
      #expect(extracted.enumerated().allSatisfy { $0.offset == 4 || $0.element == values[$0.offset] })
      #expect(extracted[4] == "nul")
    }
  }

  @Test("columns in JSONEncoder's style (escaped slashes, \\u escapes, spacing) read the same")
  func foundationStyleColumnsRead() async throws {
    try await withDatabase { database in
      let id = try await database.write { db in
        try Outbox.append(OutboxMessage(topic: "t", key: nil, payload: [], headers: []), in: db)
      }
      let column = #"[ ["a\/b", "\u00e9\ud83c\udf9f\n"] , ["x","y\"\\"] ]"#
      try await database.write { db in
        try db.execute(sql: "UPDATE outbox SET headers = ? WHERE id = ?", arguments: [column, id])
      }
      let read = try await database.read { db in try Outbox.pending(limit: 1, in: db) }
      #expect(
        read.first?.headers == [OutboxHeader(name: "a/b", value: "é🎟\n"), OutboxHeader(name: "x", value: "y\"\\")])
    }
  }

  @Test("pending(after:) skips rows at or below the given id")
  func pendingAfter() async throws {
    try await withDatabase { database in
      let ids = try await database.write { db in
        try (0..<4).map { _ in try Outbox.append(OutboxMessage(topic: "t", key: nil, payload: []), in: db) }
      }
      let after = try await database.read { db in try Outbox.pending(limit: 10, after: ids[1], in: db) }
      #expect(after.map(\.id) == Array(ids[2...]))
    }
  }

  @Test("inCachedSavepoint keeps a committed savepoint, drops a rolled-back or failed one")
  func cachedSavepoint() async throws {
    struct Failure: Error {}
    try await withDatabase { database in
      try await database.write { db in
        try db.execute(sql: "CREATE TABLE t (v INTEGER)")
        try db.inCachedSavepoint {
          try db.execute(sql: "INSERT INTO t VALUES (1)")
          return .commit
        }
        try db.inCachedSavepoint {
          try db.execute(sql: "INSERT INTO t VALUES (2)")
          return .rollback
        }
        #expect(throws: Failure.self) {
          try db.inCachedSavepoint {
            try db.execute(sql: "INSERT INTO t VALUES (3)")
            throw Failure()
          }
        }
        try db.inCachedSavepoint {
          try db.execute(sql: "INSERT INTO t VALUES (4)")
          return .commit
        }
      }
      // Outside a transaction it opens one.
      try await database.writer.writeWithoutTransaction { db in
        try db.inCachedSavepoint {
          try db.execute(sql: "INSERT INTO t VALUES (5)")
          return .commit
        }
      }
      let values = try await database.read { db in try Int.fetchAll(db, sql: "SELECT v FROM t ORDER BY v") }
      #expect(values == [1, 4, 5])
    }
  }
}
