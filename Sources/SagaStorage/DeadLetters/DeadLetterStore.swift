public import Foundation
public import Logging
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

  /// Opens a stopped instance's `dlt.sqlite` for a tool that must be its only user, without
  /// migrating or writing it (see ``SagaDatabase/init(exclusive:migrator:)``).
  /// - Throws: ``StorageError`` naming the file (`.busy` while another process has it open).
  public convenience init(exclusive path: String) throws {
    self.init(
      database: try SagaDatabase(
        exclusive: path, migrator: SagaDatabase.migrator(storageTables: false, DeadLetterSchema.register(in:))))
  }

  /// The store in PostgreSQL, schema `dead_letters`, created and migrated if needed.
  /// - Throws: ``StorageError`` (`.unavailable` while the server cannot be reached).
  public static func open(postgres configuration: PostgresStorageConfiguration, logger: Logger) async throws
    -> DeadLetterStore
  {
    let engine = try await PostgresEngine.open(
      configuration, schema: "dead_letters", migrations: DeadLetterSchema.postgres, logger: logger)
    return DeadLetterStore(database: SagaDatabase(postgres: engine))
  }

  private init(database: SagaDatabase) {
    self.database = database
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
  public static func record(_ letter: ReceivedDeadLetter, at now: Date, in db: some SQLConnection) throws -> Bool {
    let failure = DeadLetterFailure(headers: letter.headers)
    return try db.execute(
      """
      INSERT INTO dead_letters
        (dlt_topic, dlt_partition, dlt_offset, dlt_timestamp, original_topic, original_partition, original_offset,
         original_timestamp, original_consumer_group, message_key, value, headers, reason, reason_code,
         failure_class, attempts, error_type, event_id, first_seen_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
      """,
      [
        letter.topic, letter.partition, letter.offset, letter.timestampMilliseconds, failure.originalTopic,
        failure.originalPartition, failure.originalOffset, failure.originalTimestampMilliseconds,
        failure.originalConsumerGroup, letter.key.map(SQLValue.blob), letter.value.map(SQLValue.blob),
        try DeadLetterSchema.encode(letter.headers), failure.reason, failure.reasonCode, failure.failureClass,
        failure.attempts, failure.errorType, failure.eventId, now.millisecondsSinceEpoch,
      ]) == 1
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
      let find = { try db.query("SELECT * FROM dead_letters WHERE origin = ?", [origin]).first }
      // Ids are never reused, so minus the next one is an offset no other letter of this topic
      // and partition has. On PostgreSQL another instance may take the same one at the same
      // time: its commit makes our insert a no-op, and the next statement sees it, so ask again.
      for _ in 0..<5 {
        if let stored = try find() { return try Self.deadLetter(stored, in: db) }
        let next = try db.value(Int64.self, "SELECT COALESCE(MAX(id), 0) + 1 FROM dead_letters") ?? 1
        var received = letter
        received.offset = -next
        guard try Self.record(received, at: now, in: db) else { continue }
        try db.execute(
          """
          UPDATE dead_letters SET origin = ?, status = ?, discarded_at = ?, discard_note = ?
          WHERE dlt_topic = ? AND dlt_partition = ? AND dlt_offset = ?
          """,
          [
            origin, discardNote == nil ? "pending" : "discarded",
            discardNote == nil ? nil : now.millisecondsSinceEpoch, discardNote, received.topic, received.partition,
            received.offset,
          ])
        break
      }
      guard let stored = try find() else {
        throw StorageError(
          kind: .corrupt, code: 0, path: db.location,
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

  public static func list(_ filter: DeadLetterFilter, limit: Int, afterId: Int64?, in db: some SQLConnection) throws
    -> [StoredDeadLetter]
  {
    var conditions = ["id > ?"]
    var arguments: [any SQLBindable] = [afterId ?? 0]
    if let topic = filter.topic {
      // The original topic, or the DLT topic, also of a record without kafka_dlt headers.
      conditions.append("(original_topic = ? OR dlt_topic = ? OR (original_topic IS NULL AND dlt_topic = ?))")
      arguments += [topic, topic, topic + ".DLT"]
    }
    if let reason = filter.reason, !reason.isEmpty {
      let find = db.engine == .sqlite ? "instr" : "strpos"
      conditions.append("(reason_code = ? OR \(find)(lower(reason), lower(?)) > 0)")
      arguments += [reason, reason]
    }
    if let since = filter.since {
      conditions.append("first_seen_at >= ?")
      arguments.append(since.millisecondsSinceEpoch)
    }
    if let status = filter.status {
      conditions.append("status = ?")
      arguments.append(status.rawValue)
    }
    arguments.append(max(0, limit))
    let rows = try db.query(
      "SELECT * FROM dead_letters WHERE \(conditions.joined(separator: " AND ")) ORDER BY id LIMIT ?", arguments)
    return try rows.map { try deadLetter($0, in: db) }
  }

  /// The dead letter with `id`, or nil.
  public func deadLetter(id: Int64) async throws -> StoredDeadLetter? {
    try await database.read { db in
      try db.query("SELECT * FROM dead_letters WHERE id = ?", [id]).first.map { try Self.deadLetter($0, in: db) }
    }
  }

  /// How many dead letters are stored in all.
  public func count() async throws -> Int {
    try await database.read { db in try db.value(Int.self, "SELECT COUNT(*) FROM dead_letters") ?? 0 }
  }

  /// Pending dead letters per original topic (`replayTopic`), for `status` and the
  /// `sagad_dead_letters_pending{topic}` gauge.
  public func pendingCounts() async throws -> [String: Int] {
    try await database.read { db in
      let rows = try db.query(
        """
        SELECT original_topic, dlt_topic, COUNT(*) AS pending FROM dead_letters
        WHERE status = 'pending' GROUP BY original_topic, dlt_topic
        """)
      var counts: [String: Int] = [:]
      for row in rows {
        let dltTopic: String = try row.decode(1)
        let topic: String =
          try row.optional(0) ?? (dltTopic.hasSuffix(".DLT") ? String(dltTopic.dropLast(4)) : dltTopic)
        counts[topic, default: 0] += try row.decode(2, as: Int.self)
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
          """
          UPDATE dead_letters SET replay_count = replay_count + 1, last_replayed_at = ?,
            status = CASE WHEN status = 'discarded' THEN status ELSE 'replayed' END
          WHERE id = ?
          """,
          [now.millisecondsSinceEpoch, id])
      }
    }
  }

  /// Sets the dead letter aside with `note`; returns it as it is now, or nil if no
  /// dead letter has that id. Discarding again replaces the note.
  public func discard(id: Int64, note: String, at now: Date = Date()) async throws -> StoredDeadLetter? {
    try await database.write { db in
      let changed = try db.execute(
        "UPDATE dead_letters SET status = 'discarded', discarded_at = ?, discard_note = ? WHERE id = ?",
        [now.millisecondsSinceEpoch, note, id])
      guard changed == 1 else { return nil }
      return try db.query("SELECT * FROM dead_letters WHERE id = ?", [id]).first.map {
        try Self.deadLetter($0, in: db)
      }
    }
  }

  /// A `SELECT *` row, by column name: the table grew columns over its migrations, and this
  /// is an operator's path, not a hot one.
  private static func deadLetter(_ row: SQLRow, in db: some SQLConnection) throws -> StoredDeadLetter {
    let id: Int64 = try row.decode("id")
    let key = try row.optional("message_key", as: Data.self)
    let value = try row.optional("value", as: Data.self)
    let status: String = try row.decode("status")
    let date = { (column: String) throws -> Date? in
      try row.optional(column, as: Int64.self).map { Date(millisecondsSinceEpoch: $0) }
    }
    return StoredDeadLetter(
      id: id, topic: try row.decode("dlt_topic"), partition: try row.decode("dlt_partition"),
      offset: try row.decode("dlt_offset"), timestampMilliseconds: try row.optional("dlt_timestamp"),
      originalTopic: try row.optional("original_topic"), originalPartition: try row.optional("original_partition"),
      originalOffset: try row.optional("original_offset"),
      originalTimestampMilliseconds: try row.optional("original_timestamp"),
      originalConsumerGroup: try row.optional("original_consumer_group"),
      key: key.map { [UInt8]($0) }, value: value.map { [UInt8]($0) },
      headers: try DeadLetterSchema.decode(row.decode("headers"), id: id, in: db), reason: try row.decode("reason"),
      reasonCode: try row.optional("reason_code"), failureClass: try row.optional("failure_class"),
      attempts: try row.optional("attempts"), errorType: try row.optional("error_type"),
      eventId: try row.optional("event_id"), firstSeenAt: Date(millisecondsSinceEpoch: try row.decode("first_seen_at")),
      status: DeadLetterStatus(rawValue: status) ?? .pending, replayCount: try row.decode("replay_count"),
      lastReplayedAt: try date("last_replayed_at"), discardedAt: try date("discarded_at"),
      discardNote: try row.optional("discard_note"), origin: try row.optional("origin"))
  }
}
