import Foundation
import GRDB
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

@Suite("RetrySchedule", .postgresServer, .timeLimit(.minutes(2)))
struct RetryScheduleTests {
  private static let error = SagaError(.databaseBusy, "database is locked", failureClass: .transient)

  private static func record(offset: Int64, partition: Int32 = 1) -> InboundMessage {
    InboundMessage(
      topic: "reservation-completed", partition: partition, offset: offset, key: Array("42".utf8),
      value: [0x7B, 0xFF, 0x7D],  // not UTF-8 on purpose: retried byte for byte
      headers: [
        RecordHeader(name: "correlationId", value: "c-\(offset)"),
        // A peer's binary and null header values come back as they were, for the dead letter.
        RecordHeader(name: "x-bin", bytes: [0x00, 0xFF, 0x80]), RecordHeader(name: "x-null", bytes: nil),
      ], timestampMilliseconds: 1_700_000_000_123)
  }

  private static func park(
    _ offset: Int64, due: TimeInterval, group: String = "points-service", in db: some SQLConnection
  )
    throws -> Bool
  {
    try RetrySchedule.park(
      record(offset: offset), group: group, timestampType: "CreateTime", attempts: 2, error: error,
      at: referenceDate, dueAt: referenceDate.addingTimeInterval(due), in: db)
  }

  @Test(
    "a parked record comes back byte for byte, with its attempts, error and due time", arguments: SQLEngine.allCases)
  func roundTrip(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let parked = try await database.write { db in try Self.park(7, due: 1, in: db) }
      #expect(parked)
      // In a write transaction, as the consume worker asks: on PostgreSQL `due` locks what it
      // returns (FOR UPDATE SKIP LOCKED), which a read-only transaction refuses.
      let entries = try await database.write { db in
        try RetrySchedule.due(group: "points-service", at: referenceDate.addingTimeInterval(1), limit: 10, in: db)
      }
      let entry = try #require(entries.first)
      #expect(entries.count == 1)
      #expect(entry.message == Self.record(offset: 7))
      #expect(entry.message.envelope.correlationId == "c-7")
      #expect(entry.timestampType == "CreateTime")
      #expect(entry.attempts == 2)
      #expect(entry.lastError.code == .databaseBusy && entry.lastError.message == "database is locked")
      #expect(entry.lastError.isRetriable)
      #expect(entry.firstFailedAt == referenceDate)
      #expect(entry.dueAt == referenceDate.addingTimeInterval(1))
    }
  }

  @Test("due returns only what is due, earliest first, per group and up to the limit", arguments: SQLEngine.allCases)
  func dueOrder(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      try await database.write { db in
        _ = try Self.park(1, due: 30, in: db)
        _ = try Self.park(2, due: 10, in: db)
        _ = try Self.park(3, due: 20, in: db)
        _ = try Self.park(4, due: 5, group: "payments-saga-tracker", in: db)
        _ = try Self.park(5, due: 99, in: db)
      }
      let (due, limited, next, counts) = try await database.write { db in
        let at = referenceDate.addingTimeInterval(30)
        return (
          try RetrySchedule.due(group: "points-service", at: at, limit: 10, in: db).map(\.message.offset),
          try RetrySchedule.due(group: "points-service", at: at, limit: 2, in: db).map(\.message.offset),
          try RetrySchedule.nextDueAt(group: "points-service", in: db),
          [try RetrySchedule.count(group: "points-service", in: db), try RetrySchedule.count(in: db)]
        )
      }
      #expect(due == [2, 3, 1])
      #expect(limited == [2, 3])
      #expect(next == referenceDate.addingTimeInterval(10))
      #expect(counts == [4, 5])
    }
  }

  @Test("parking a record twice keeps the first entry; reschedule and delete change it", arguments: SQLEngine.allCases)
  func lifecycle(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let (first, again) = try await database.write { db in
        (try Self.park(9, due: 1, in: db), try Self.park(9, due: 50, in: db))
      }
      #expect(first && !again)
      let later = SagaError(.storageIO, "disk I/O error", failureClass: .transient)
      let entry = try await database.write { db in
        let entry = try #require(try RetrySchedule.list(limit: 10, in: db).first)
        try RetrySchedule.reschedule(
          id: entry.id, attempts: 3, error: later, dueAt: referenceDate.addingTimeInterval(8), in: db)
        return try #require(try RetrySchedule.list(limit: 10, in: db).first)
      }
      #expect(entry.attempts == 3)
      #expect(entry.lastError.code == .storageIO)
      #expect(entry.dueAt == referenceDate.addingTimeInterval(8))
      #expect(entry.firstFailedAt == referenceDate, "the first failure time is kept")
      let (count, oldest) = try await database.write { db in
        try RetrySchedule.delete(id: entry.id, in: db)
        return (try RetrySchedule.count(in: db), try RetrySchedule.oldestFirstFailedAt(in: db))
      }
      #expect(count == 0)
      #expect(oldest == nil)
    }
  }

  @Test("entries survive closing and reopening the database", arguments: SQLEngine.allCases)
  func durable(engine: SQLEngine) async throws {
    try await TemporaryDirectory.with { directory in
      let open: () async throws -> SagaDatabase
      switch engine {
      case .sqlite:
        let configuration = StorageConfiguration(path: directory.appending("db.sqlite").path)
        open = { try SagaDatabase(configuration) }
      case .postgres:
        let configuration = try await PostgresServer.suiteServer().freshDatabase()
        open = {
          try await ServiceDatabase<StorageTablesSchema>.open(postgres: configuration, logger: quietLogger).storage
        }
      }
      let first = try await open()
      try await first.closing { _ = try await first.write { db in try Self.park(11, due: 3, in: db) } }
      let second = try await open()
      try await second.closing {
        let entries = try await second.read { db in try RetrySchedule.list(limit: 10, in: db) }
        #expect(entries.map(\.message.offset) == [11])
        #expect(try await second.read { db in try RetrySchedule.oldestFirstFailedAt(in: db) } == referenceDate)
      }
    }
  }
}
