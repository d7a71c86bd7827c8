import Foundation
import GRDB
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

/// The outbox's extra_headers column, written and read by hand (HeaderJSON), and the storage
/// helpers the hot paths use instead of GRDB's defaults.
@Suite("Outbox headers column and hot-path helpers", .postgresServer, .timeLimit(.minutes(2)))
struct HeaderColumnTests {
  @Test(
    "awkward header values round-trip and the column stays JSON that SQLite can read", arguments: SQLEngine.allCases)
  func awkwardValuesRoundTrip(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let values = [
        "", "plain", "\"quoted\" \\back\\ /slash/", "tab\tline\ncr\r", "nul\u{0}bell\u{7}del\u{7F}", "é 🎟️ 포인트",
        "\u{2028}\u{FEFF}",
      ]
      let headers = values.enumerated().map { RecordHeader(name: "h\($0.offset) \"n\"", value: $0.element) }
      let id = try await database.write { db in
        try Outbox.append(OutboxMessage(topic: "t", key: "k", payload: [1], headers: headers), in: db)
      }
      let read = try await database.read { db in try Outbox.pending(limit: 10, in: db) }
      #expect(read.first?.headers == headers)
      // SQLite's JSON functions read the column; PostgreSQL's refuse the NUL (a `\u0000` escape).
      guard engine == .sqlite else { return }
      let extracted = try await database.read { db in
        try (0..<values.count).map { index in
          try db.value(
            String.self, "SELECT json_extract(extra_headers, '$[\(index)][1]') FROM outbox WHERE id = ?", [id])
        }
      }
      // json_extract hands back text as a C string, so the value with a NUL is cut there;
      // the round trip above is what matters for it.
      #expect(extracted.enumerated().allSatisfy { $0.offset == 4 || $0.element == values[$0.offset] })
      #expect(extracted[4] == "nul")
    }
  }

  @Test(
    "columns in JSONEncoder's style (escaped slashes, \\u escapes, spacing) read the same",
    arguments: SQLEngine.allCases)
  func foundationStyleColumnsRead(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let id = try await database.write { db in
        try Outbox.append(OutboxMessage(topic: "t", key: nil, payload: [], headers: []), in: db)
      }
      let column = #"[ ["a\/b", "\u00e9\ud83c\udf9f\n"] , ["x","y\"\\"] ]"#
      _ = try await database.write { db in
        try db.execute("UPDATE outbox SET extra_headers = ? WHERE id = ?", [column, id])
      }
      let read = try await database.read { db in try Outbox.pending(limit: 1, in: db) }
      #expect(
        read.first?.headers == [RecordHeader(name: "a/b", value: "é🎟\n"), RecordHeader(name: "x", value: "y\"\\")])
    }
  }

  @Test(
    "binary and null values and a key that is not UTF-8 survive byte for byte; text stays [name, value]",
    arguments: SQLEngine.allCases)
  func binaryValuesRoundTrip(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let headers = [
        RecordHeader(name: "eventId", value: "5b1c"),
        RecordHeader(name: "x-bin", bytes: [0x00, 0xFF, 0x80]),
        RecordHeader(name: "x-null", bytes: nil),
        RecordHeader(name: "kafka_dlt-original-partition", bytes: [0x00, 0x00, 0x00, 0x03]),
        RecordHeader(name: "x-empty", bytes: []),
      ]
      let (binaryKey, textKey) = try await database.write { db in
        (
          try Outbox.append(
            OutboxMessage(topic: "t.DLT", keyContent: RecordBytes([0xFF, 0x00, 0xFE]), payload: [1], headers: headers),
            in: db),
          try Outbox.append(OutboxMessage(topic: "t", key: "42", payload: [2], headers: headers), in: db)
        )
      }
      let read = try await database.read { db in try Outbox.pending(limit: 10, in: db) }
      #expect(read.map(\.headers) == [headers, headers])
      #expect(read[0].message.keyContent == .binary([0xFF, 0x00, 0xFE]) && read[0].key == nil)
      #expect(read[1].message.keyContent == .text("42") && read[1].key == "42")
      #expect(read[0].headers[1].bytes == [0x00, 0xFF, 0x80] && read[0].headers[2].bytes == nil)
      #expect(read[0].headers[3].bytes == [0x00, 0x00, 0x00, 0x03] && read[0].headers[4].bytes == [])

      // How SQLite stores them (PostgreSQL's message_key is BYTEA whatever the key).
      guard engine == .sqlite else { return }
      let column = try await database.read { db in
        try db.query(
          """
          SELECT typeof(message_key), (SELECT typeof(message_key) FROM outbox WHERE id = ?),
                 json_extract(extra_headers, '$[0][1]'), json_extract(extra_headers, '$[1].base64'),
                 json_type(extra_headers, '$[2]'), json_extract(extra_headers, '$[2].base64')
          FROM outbox WHERE id = ?
          """, [textKey, binaryKey]
        ).first.map { row in (0..<6).map { row[$0] as String? } }
      }
      #expect(column?[0] == "blob" && column?[1] == "text")
      #expect(column?[2] == "5b1c", "text values stay [name, value] pairs that json_each reads")
      #expect(column?[3] == "AP+A")
      #expect(column?[4] == "object" && column?[5] == nil)
    }
  }

  @Test(
    "a column mixing pairs with {name, text|base64} objects reads; bad base64 is a corrupt row",
    arguments: SQLEngine.allCases)
  func objectFormsRead(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let id = try await database.write { db in
        try Outbox.append(OutboxMessage(topic: "t", key: nil, payload: []), in: db)
      }
      let column = #"[["a","b"], {"name":"c","text":"d"}, {"base64":"AAE=","name":"e"}, {"name":"f"}]"#
      _ = try await database.write { db in
        try db.execute("UPDATE outbox SET extra_headers = ? WHERE id = ?", [column, id])
      }
      let read = try await database.read { db in try Outbox.pending(limit: 1, in: db) }
      #expect(
        read.first?.headers == [
          RecordHeader(name: "a", value: "b"), RecordHeader(name: "c", value: "d"),
          RecordHeader(name: "e", bytes: [0x00, 0x01]), RecordHeader(name: "f", bytes: nil),
        ])
      _ = try await database.write { db in
        try db.execute("UPDATE outbox SET extra_headers = ? WHERE id = ?", [#"[{"name":"e","base64":"%%"}]"#, id])
      }
      await #expect(throws: StorageError.self) {
        _ = try await database.read { db in try Outbox.pending(limit: 1, in: db) }
      }
    }
  }

  @Test("pending(after:) skips rows at or below the given id", arguments: SQLEngine.allCases)
  func pendingAfter(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let ids = try await database.write { db in
        try (0..<4).map { _ in try Outbox.append(OutboxMessage(topic: "t", key: nil, payload: []), in: db) }
      }
      let after = try await database.read { db in try Outbox.pending(limit: 10, after: ids[1], in: db) }
      #expect(after.map(\.id) == Array(ids[2...]))
    }
  }

  @Test(
    "inCachedSavepoint keeps a committed savepoint, drops a rolled-back or failed one", arguments: SQLEngine.allCases)
  func cachedSavepoint(engine: SQLEngine) async throws {
    struct Failure: Error {}
    try await withDatabase(on: engine) { database in
      try await database.write { db in
        try db.execute("CREATE TABLE t (v INTEGER)")
        try db.savepoint {
          try db.execute("INSERT INTO t VALUES (1)")
          return .commit
        }
        try db.savepoint {
          try db.execute("INSERT INTO t VALUES (2)")
          return .rollback
        }
        #expect(throws: Failure.self) {
          try db.savepoint {
            try db.execute("INSERT INTO t VALUES (3)")
            throw Failure()
          }
        }
        // A statement that fails (PostgreSQL then refuses everything up to a rollback) undoes
        // only its savepoint: the transaction goes on.
        #expect(throws: (any Error).self) {
          try db.savepoint {
            try db.execute("INSERT INTO t VALUES (6)")
            try db.execute("INSERT INTO no_such_table VALUES (7)")
            return .commit
          }
        }
        try db.savepoint {
          try db.execute("INSERT INTO t VALUES (4)")
          return .commit
        }
      }
      // Outside a transaction it opens one (only SQLite's writer runs statements outside one).
      if let writer = database.sqlite {
        try await writer.writeWithoutTransaction { db in
          try db.savepoint {
            try db.execute("INSERT INTO t VALUES (5)")
            return .commit
          }
        }
      }
      let values = try await database.read { db in
        try db.query("SELECT v FROM t ORDER BY v").map { try $0.decode(0, as: Int.self) }
      }
      #expect(values == (engine == .sqlite ? [1, 4, 5] : [1, 4]))
    }
  }
}
