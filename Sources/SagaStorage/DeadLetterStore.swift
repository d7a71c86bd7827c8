public import Foundation
public import GRDB
import SagaCore

/// The dead-letter store (issue 4 item 2): every record of the `.DLT` topics, stored once
/// by its DLT coordinates in a database of its own (`<state_dir>/dlt.sqlite`), with what
/// its headers say about the failure, and what operators did with it.
public final class DeadLetterStore: Sendable {
  public let database: SagaDatabase

  /// Opens (creating and migrating if needed) the store at `configuration.path`.
  /// - Throws: ``StorageError`` naming the file.
  public init(_ configuration: StorageConfiguration) throws {
    database = try SagaDatabase(configuration, storageTables: false, migrations: DeadLetterSchema.register(in:))
  }

  // MARK: Storing

  /// Stores `letters` in one transaction; returns how many were new (the others were
  /// already stored: a redelivery).
  @discardableResult
  public func record(_ letters: [ReceivedDeadLetter], at now: Date = Date()) async throws -> Int {
    guard !letters.isEmpty else { return 0 }
    return try await database.write { db in
      var stored = 0
      for letter in letters where try Self.record(letter, at: now, in: db) { stored += 1 }
      return stored
    }
  }

  /// Stores `letter` unless a row with its DLT coordinates exists; true if it was new.
  /// The first record wins: a redelivered DLT record never changes a row.
  public static func record(_ letter: ReceivedDeadLetter, at now: Date, in db: Database) throws -> Bool {
    let failure = DeadLetterFailure(headers: letter.headers)
    try db.execute(
      sql: """
        INSERT OR IGNORE INTO dead_letters
          (dlt_topic, dlt_partition, dlt_offset, dlt_timestamp, original_topic, original_partition, original_offset,
           original_timestamp, original_consumer_group, message_key, value, headers, reason, reason_code,
           failure_class, attempts, error_type, event_id, first_seen_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
      arguments: [
        letter.topic, letter.partition, letter.offset, letter.timestampMilliseconds, failure.originalTopic,
        failure.originalPartition, failure.originalOffset, failure.originalTimestampMilliseconds,
        failure.originalConsumerGroup, letter.key.map { Data($0) }, letter.value.map { Data($0) },
        try DeadLetterSchema.encode(letter.headers), failure.reason, failure.reasonCode, failure.failureClass,
        failure.attempts, failure.errorType, failure.eventId, now.millisecondsSinceEpoch,
      ])
    return db.changesCount == 1
  }

  /// Stores outbox row `row` of `service`, which is not going to be published, as a dead
  /// letter (Docs/retries-and-dead-letters.md, "Records that cannot be sent"): whole, as the
  /// row would have gone out, with `sagad-unsent: <why>`. A row bound for a `.DLT` topic is a
  /// dead letter already and keeps its own failure headers; any other row gets the
  /// `kafka_dlt-*` headers naming its topic. With `discardNote` it is stored discarded (an
  /// operator's `outbox discard`), else pending, so `dlt list` shows it and `dlt replay`
  /// can publish it once the cause is fixed. Stored once per row: a second call returns the
  /// first letter unchanged.
  public func recordUnsent(
    _ row: OutboxRecord, service: String, why: String, discardNote: String? = nil, at now: Date = Date()
  ) async throws -> StoredDeadLetter {
    let origin = "outbox:\(service):\(row.id)"
    let letter = Self.unsentLetter(row, why: why, discarded: discardNote != nil)
    return try await database.write { db in
      let find = { try Row.fetchOne(db, sql: "SELECT * FROM dead_letters WHERE origin = ?", arguments: [origin]) }
      if let stored = try find() { return try Self.deadLetter(stored, in: db) }
      // AUTOINCREMENT ids are never reused, so minus the next one is an offset no other
      // letter of this topic and partition has.
      let next = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) + 1 FROM dead_letters") ?? 1
      var received = letter
      received.offset = -next
      if try Self.record(received, at: now, in: db) {
        try db.execute(
          sql: """
            UPDATE dead_letters SET origin = ?, status = ?, discarded_at = ?, discard_note = ?
            WHERE dlt_topic = ? AND dlt_partition = ? AND dlt_offset = ?
            """,
          arguments: [
            origin, discardNote == nil ? "pending" : "discarded",
            discardNote == nil ? nil : now.millisecondsSinceEpoch, discardNote, received.topic, received.partition,
            received.offset,
          ])
      }
      guard let stored = try find() else {
        throw StorageError(
          kind: .corrupt, code: ResultCode.SQLITE_CORRUPT.rawValue, path: SagaDatabase.path(of: db),
          message: "dead letter of \(origin) was not stored")
      }
      return try Self.deadLetter(stored, in: db)
    }
  }

  /// The letter for an unsent row, at partition -1 (no topic holds it); the offset is set
  /// when it is stored.
  private static func unsentLetter(_ row: OutboxRecord, why: String, discarded: Bool) -> ReceivedDeadLetter {
    typealias DLT = HeaderName.DeadLetter
    var headers = row.headers
    let topic: String
    if row.topic.hasSuffix(SagaTopic.deadLetterSuffix) {
      topic = row.topic
    } else {
      topic = row.topic + SagaTopic.deadLetterSuffix
      let reason = discarded ? "discarded-from-outbox: \(why)" : "unsendable: \(why)"
      headers = headers.filter { !$0.name.hasPrefix(DLT.prefix) }
      headers += [
        RecordHeader(name: DLT.originalTopic, value: row.topic),
        RecordHeader(name: DLT.exceptionFqcn, value: "SagaKafka.KafkaError"),
        RecordHeader(name: DLT.exceptionMessage, value: reason),
        RecordHeader(name: HeaderName.failureClass, value: "permanent"),
      ]
    }
    headers.append(RecordHeader(name: HeaderName.unsent, value: why))
    return ReceivedDeadLetter(
      topic: topic, partition: -1, offset: 0, key: row.message.keyContent.bytes, value: row.payload,
      headers: headers)
  }

  // MARK: Queries

  /// Up to `limit` dead letters matching `filter`, in id order (the order they were
  /// stored), starting after id `afterId` when given (for paging).
  public func list(_ filter: DeadLetterFilter = DeadLetterFilter(), limit: Int, afterId: Int64? = nil) async throws
    -> [StoredDeadLetter]
  {
    try await database.read { db in try Self.list(filter, limit: limit, afterId: afterId, in: db) }
  }

  public static func list(_ filter: DeadLetterFilter, limit: Int, afterId: Int64?, in db: Database) throws
    -> [StoredDeadLetter]
  {
    var conditions = ["id > ?"]
    var arguments: StatementArguments = [afterId ?? 0]
    if let topic = filter.topic {
      // The original topic, or the DLT topic, also of a record without kafka_dlt headers.
      conditions.append("(original_topic = ? OR dlt_topic = ? OR (original_topic IS NULL AND dlt_topic = ?))")
      _ = arguments.append(contentsOf: [topic, topic, topic + ".DLT"])
    }
    if let reason = filter.reason, !reason.isEmpty {
      conditions.append("(reason_code = ? OR instr(lower(reason), lower(?)) > 0)")
      _ = arguments.append(contentsOf: [reason, reason])
    }
    if let since = filter.since {
      conditions.append("first_seen_at >= ?")
      _ = arguments.append(contentsOf: [since.millisecondsSinceEpoch])
    }
    if let status = filter.status {
      conditions.append("status = ?")
      _ = arguments.append(contentsOf: [status.rawValue])
    }
    _ = arguments.append(contentsOf: [max(0, limit)])
    let rows = try Row.fetchAll(
      db,
      sql: "SELECT * FROM dead_letters WHERE \(conditions.joined(separator: " AND ")) ORDER BY id LIMIT ?",
      arguments: arguments)
    return try rows.map { try deadLetter($0, in: db) }
  }

  /// The dead letter with `id`, or nil.
  public func deadLetter(id: Int64) async throws -> StoredDeadLetter? {
    try await database.read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM dead_letters WHERE id = ?", arguments: [id]).map {
        try Self.deadLetter($0, in: db)
      }
    }
  }

  /// How many dead letters are stored in all.
  public func count() async throws -> Int {
    try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dead_letters") ?? 0 }
  }

  /// Pending dead letters per original topic (`replayTopic`), for `status` and the
  /// `sagad_dead_letters_pending{topic}` gauge.
  public func pendingCounts() async throws -> [String: Int] {
    try await database.read { db in
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT original_topic, dlt_topic, COUNT(*) AS pending FROM dead_letters
          WHERE status = 'pending' GROUP BY original_topic, dlt_topic
          """)
      var counts: [String: Int] = [:]
      for row in rows {
        let dltTopic: String = row["dlt_topic"]
        let topic: String =
          row["original_topic"] ?? (dltTopic.hasSuffix(".DLT") ? String(dltTopic.dropLast(4)) : dltTopic)
        counts[topic, default: 0] += row["pending"] as Int
      }
      return counts
    }
  }

  // MARK: Operator actions

  /// Records a persisted replay of each of `ids`: `replayed`, one more replay, when.
  /// A letter discarded meanwhile stays discarded (its replay is still counted).
  public func markReplayed(ids: [Int64], at now: Date = Date()) async throws {
    guard !ids.isEmpty else { return }
    try await database.write { db in
      for id in ids {
        try db.execute(
          sql: """
            UPDATE dead_letters SET replay_count = replay_count + 1, last_replayed_at = ?,
              status = CASE WHEN status = 'discarded' THEN status ELSE 'replayed' END
            WHERE id = ?
            """,
          arguments: [now.millisecondsSinceEpoch, id])
      }
    }
  }

  /// Sets the dead letter aside with `note`; returns it as it is now, or nil if no
  /// dead letter has that id. Discarding again replaces the note.
  public func discard(id: Int64, note: String, at now: Date = Date()) async throws -> StoredDeadLetter? {
    try await database.write { db in
      try db.execute(
        sql: "UPDATE dead_letters SET status = 'discarded', discarded_at = ?, discard_note = ? WHERE id = ?",
        arguments: [now.millisecondsSinceEpoch, note, id])
      guard db.changesCount == 1 else { return nil }
      return try Row.fetchOne(db, sql: "SELECT * FROM dead_letters WHERE id = ?", arguments: [id]).map {
        try Self.deadLetter($0, in: db)
      }
    }
  }

  private static func deadLetter(_ row: Row, in db: Database) throws -> StoredDeadLetter {
    let id: Int64 = row["id"]
    let key: Data? = row["message_key"]
    let value: Data? = row["value"]
    let status: String = row["status"]
    let date = { (column: String) -> Date? in
      (row[column] as Int64?).map { Date(millisecondsSinceEpoch: $0) }
    }
    return StoredDeadLetter(
      id: id, topic: row["dlt_topic"], partition: row["dlt_partition"], offset: row["dlt_offset"],
      timestampMilliseconds: row["dlt_timestamp"], originalTopic: row["original_topic"],
      originalPartition: row["original_partition"], originalOffset: row["original_offset"],
      originalTimestampMilliseconds: row["original_timestamp"], originalConsumerGroup: row["original_consumer_group"],
      key: key.map { [UInt8]($0) }, value: value.map { [UInt8]($0) },
      headers: try DeadLetterSchema.decode(row["headers"], id: id, in: db), reason: row["reason"],
      reasonCode: row["reason_code"], failureClass: row["failure_class"], attempts: row["attempts"],
      errorType: row["error_type"], eventId: row["event_id"],
      firstSeenAt: Date(millisecondsSinceEpoch: row["first_seen_at"]),
      status: DeadLetterStatus(rawValue: status) ?? .pending, replayCount: row["replay_count"],
      lastReplayedAt: date("last_replayed_at"), discardedAt: date("discarded_at"), discardNote: row["discard_note"],
      origin: row["origin"])
  }
}
