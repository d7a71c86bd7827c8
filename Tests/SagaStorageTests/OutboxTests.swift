import Foundation
import GRDB
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

@Suite("Outbox", .postgresServer, .timeLimit(.minutes(2)))
struct OutboxTests {
  @Test("an append inside a transaction that throws leaves no row", arguments: SQLEngine.allCases)
  func appendRollsBackWithTransaction(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      await #expect(throws: InjectedFailure()) {
        try await database.write { db in
          _ = try Outbox.append(message(), in: db)
          throw InjectedFailure()
        }
      }
      let pending = try await pendingCount(database)
      #expect(pending == 0)
    }
  }

  @Test(
    "an append inside a rolled-back savepoint is dropped, the rest of the batch is kept", arguments: SQLEngine.allCases)
  func appendRollsBackWithSavepoint(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      try await database.write { db in
        try db.savepoint {
          _ = try Outbox.append(message(key: "1"), in: db)
          return .rollback
        }
        _ = try Outbox.append(message(key: "2"), in: db)
      }
      let pending = try await database.read { db in try Outbox.pending(limit: 10, in: db) }
      #expect(pending.map(\.key) == ["2"])
    }
  }

  @Test("pending returns rows in id order with every field intact", arguments: SQLEngine.allCases)
  func appendAndPending(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let headers = [
        RecordHeader(name: "eventId", value: "5b1c…"), RecordHeader(name: "x", value: "a \"quoted\" [value]"),
        RecordHeader(name: "x", value: "repeated name, order kept"),
      ]
      let messages = [
        OutboxMessage(topic: "reservation-completed", key: "1", payload: Array("{\"a\":1}".utf8), headers: headers),
        OutboxMessage(topic: "point-reward-completed", key: nil, payload: [], headers: []),
        OutboxMessage(topic: "compensate-payment", key: "3", payload: [0, 255, 10], headers: headers.reversed()),
      ]
      let ids = try await database.write { db in
        try messages.map { try Outbox.append($0, at: referenceDate, in: db) }
      }
      #expect(ids == ids.sorted() && Set(ids).count == 3)

      let pending = try await database.read { db in try Outbox.pending(limit: 10, in: db) }
      #expect(pending.map(\.id) == ids)
      #expect(pending.map(\.message) == messages)
      #expect(pending.allSatisfy { $0.createdAt == referenceDate && $0.attempts == 0 })

      let firstTwo = try await database.read { db in try Outbox.pending(limit: 2, in: db) }
      #expect(firstTwo.map(\.id) == Array(ids.prefix(2)))
    }
  }

  /// What a writer hands its relay after the commit must be what the relay would have read:
  /// the relay publishes it instead of reading.
  @Test("a row's record as handed to the relay equals the row as read back", arguments: SQLEngine.allCases)
  func recordEqualsRead(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let envelope = HeaderName.envelope.enumerated().map { RecordHeader(name: $1, value: "v\($0) \"q\"") }
      let messages = [
        // A saga event: the envelope in its columns, extras in JSON (a binary one too).
        OutboxMessage(
          topic: "reservation-completed", key: "1", payload: Array("{\"a\":1}".utf8),
          headers: envelope + [RecordHeader(name: "x", value: "extra"), RecordHeader(name: "b", bytes: [0, 255])]),
        OutboxMessage(
          topic: "point-reward-completed", keyContent: .binary([0xFF, 0, 1]), payload: [], headers: envelope),
        // A dead letter's headers, not starting with the envelope, and no key.
        OutboxMessage(
          topic: "compensate-payment.DLT", keyContent: .null, payload: [0, 255, 10],
          headers: [RecordHeader(name: "eventId", value: "e"), RecordHeader(name: "n", bytes: nil)] + envelope),
        OutboxMessage(topic: "t", key: "", payload: Array("ü".utf8), headers: []),
      ]
      // A time with sub-millisecond digits, which the column drops.
      let now = Date(timeIntervalSince1970: 1_780_000_000.123_456)
      let handed = try await database.write { db in
        try messages.map { message in try Outbox.appendRecord(message, at: now, in: db) }
      }
      let read = try await database.read { db in try Outbox.pending(limit: 10, in: db) }
      #expect(read == handed)
      #expect(read.map(\.headers) == messages.map(\.headers))
    }
  }

  @Test(
    "pending leaves out the excluded rows and still fills its limit from the ones above", arguments: SQLEngine.allCases)
  func pendingExcluding(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let ids = try await database.write { db in try (0..<6).map { _ in try Outbox.append(message(), in: db) } }
      let read = try await database.read { db in
        try Outbox.pending(limit: 3, excluding: [ids[0], ids[2], ids[3]], in: db).map(\.id)
      }
      #expect(read == [ids[1], ids[4], ids[5]])
      let above = try await database.read { db in
        try Outbox.pending(limit: 10, after: ids[1], excluding: [ids[4]], in: db).map(\.id)
      }
      #expect(above == [ids[2], ids[3], ids[5]])
    }
  }

  @Test(
    "readStatement reads what read does; on PostgreSQL outside a transaction (no BEGIN)", arguments: SQLEngine.allCases)
  func readStatement(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let ids = try await database.write { db in try (0..<3).map { _ in try Outbox.append(message(), in: db) } }
      let pending = try await database.readStatement { db in try Outbox.pending(limit: 10, in: db).map(\.id) }
      #expect(pending == ids)
      guard engine == .postgres else { return }
      // `read` is REPEATABLE READ; a statement on its own runs at the session's default.
      let isolation = { @Sendable (db: any SQLConnection) in
        try db.value(String.self, "SELECT current_setting('transaction_isolation')")
      }
      #expect(try await database.read(isolation) == "repeatable read")
      #expect(try await database.readStatement(isolation) == "read committed")
    }
  }

  @Test("markSent hides rows from pending and keeps the first sent time", arguments: SQLEngine.allCases)
  func markSent(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let ids = try await database.write { db in try (0..<3).map { _ in try Outbox.append(message(), in: db) } }
      let changed = try await database.write { db in
        try Outbox.markSent(ids: [ids[0], ids[2]], at: referenceDate, in: db)
      }
      #expect(changed == 2)
      let again = try await database.write { db in
        try Outbox.markSent(ids: [ids[0]], at: referenceDate.addingTimeInterval(60), in: db)
      }
      #expect(again == 0)
      let (pending, sentAt) = try await database.read { db in
        (
          try Outbox.pending(limit: 10, in: db).map(\.id),
          try db.value(Int64.self, "SELECT sent_at FROM outbox WHERE id = ?", [ids[0]])
        )
      }
      #expect(pending == [ids[1]])
      #expect(sentAt == 1_767_225_600_000)
    }
  }

  @Test(
    "markSent and recordFailedAttempt take batches larger than SQLite's parameter limit", arguments: SQLEngine.allCases)
  func largeBatches(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let ids = try await database.write { db in try (0..<1_200).map { _ in try Outbox.append(message(), in: db) } }
      let attempted = try await database.write { db in try Outbox.recordFailedAttempt(ids: ids, in: db) }
      #expect(attempted == 1_200)
      let attempts = try await database.read { db in try Outbox.pending(limit: 1, in: db).first?.attempts }
      #expect(attempts == 1)
      let sent = try await database.write { db in try Outbox.markSent(ids: ids, in: db) }
      #expect(sent == 1_200)
      let pending = try await pendingCount(database)
      #expect(pending == 0)
    }
  }

  @Test("purgeSent removes only sent rows older than the cut-off, never unsent ones", arguments: SQLEngine.allCases)
  func purgeSent(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let old = referenceDate
      let recent = referenceDate.addingTimeInterval(7_200)
      let ids = try await database.write { db in
        let ids = try (0..<3).map { _ in try Outbox.append(message(), at: old, in: db) }
        try Outbox.markSent(ids: [ids[0]], at: old, in: db)
        try Outbox.markSent(ids: [ids[1]], at: recent, in: db)
        return ids
      }
      let purged = try await database.write { db in
        try Outbox.purgeSent(olderThan: referenceDate.addingTimeInterval(3_600), in: db)
      }
      #expect(purged == 1)
      let remaining = try await database.read { db in
        try db.query("SELECT id FROM outbox ORDER BY id").map { try $0.decode(0, as: Int64.self) }
      }
      #expect(remaining == [ids[1], ids[2]])
    }
  }

  @Test("ids keep increasing after a purge empties the table", arguments: SQLEngine.allCases)
  func idsNeverReused(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let first = try await database.write { db in
        let id = try Outbox.append(message(), at: referenceDate, in: db)
        try Outbox.markSent(ids: [id], at: referenceDate, in: db)
        _ = try Outbox.purgeSent(olderThan: referenceDate.addingTimeInterval(1), in: db)
        return id
      }
      let second = try await database.write { db in try Outbox.append(message(), in: db) }
      #expect(second > first)
    }
  }

  @Test("pendingCount and oldestPendingCreatedAt follow the unsent rows", arguments: SQLEngine.allCases)
  func countsAndOldest(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let empty = try await database.read { db in
        (try Outbox.pendingCount(in: db), try Outbox.oldestPendingCreatedAt(in: db))
      }
      #expect(empty.0 == 0)
      #expect(empty.1 == nil)

      let ids = try await database.write { db in
        try (0..<3).map { try Outbox.append(message(), at: referenceDate.addingTimeInterval(Double($0)), in: db) }
      }
      try await database.write { db in _ = try Outbox.markSent(ids: [ids[0]], in: db) }
      let (count, oldest) = try await database.read { db in
        (try Outbox.pendingCount(in: db), try Outbox.oldestPendingCreatedAt(in: db))
      }
      #expect(count == 2)
      #expect(oldest == referenceDate.addingTimeInterval(1))
    }
  }

  @Test("the pending scan, the count and the purge use the partial indexes")
  func queryPlans() async throws {
    try await withDatabase { database in
      let plans = try await database.read { db in
        try [
          "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL",
          "SELECT created_at FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT 1",
          "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < 0",
        ].map { sql in
          try db.query("EXPLAIN QUERY PLAN \(sql)").map { $0["detail"] as String }.joined(separator: "; ")
        }
      }
      #expect(plans[0].contains("outbox_unsent"), "\(plans[0])")
      #expect(plans[1].contains("outbox_unsent"), "\(plans[1])")
      #expect(plans[2].contains("outbox_sent_at"), "\(plans[2])")
    }
  }

  @Test(
    "a hand-damaged headers column is reported as corruption naming the row and the file", arguments: SQLEngine.allCases
  )
  func damagedHeaders(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let id = try await database.write { db in
        let id = try Outbox.append(message(), in: db)
        try db.execute("UPDATE outbox SET extra_headers = '{\"not\": \"pairs\"}' WHERE id = ?", [id])
        return id
      }
      let error = await #expect(throws: StorageError.self) {
        try await database.read { db in try Outbox.pending(limit: 1, in: db) }
      }
      #expect(error?.kind == .corrupt)
      #expect(error?.isRetriable == false)
      #expect(error?.message.contains("outbox row \(id)") == true)
      #expect(error?.path == database.path)
    }
  }
}
