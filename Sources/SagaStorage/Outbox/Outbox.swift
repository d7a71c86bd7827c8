public import Foundation
import SagaCore

/// The transactional outbox (Docs/design.md, "Outbox relay"): a service appends the events it emits
/// in the same transaction as its state change, and the relay publishes the rows in
/// id order and marks them sent only once Kafka has persisted them.
///
/// Every function takes the caller's connection, so it runs inside whatever
/// transaction or savepoint the caller has open.
public enum Outbox {
  /// Appends `message` and returns its id. Rolled back with the caller's transaction.
  @discardableResult
  public static func append(_ message: OutboxMessage, at now: Date = Date(), in db: some SQLConnection) throws -> Int64
  {
    let insert = try insertion(message, id: nil, at: now, engine: db.engine)
    // Every event a service emits runs it (cached on SQLite's connection).
    let id = try db.insertReturningID(insert.sql, insert.arguments)
    db.noteOutboxWrite(id: id)
    return id
  }

  /// Appends `message` without waiting for its id: on PostgreSQL the insert rides with the
  /// connection's next statement (`SQLConnection.executeDeferred`, one held write per table,
  /// so rows still take their ids in the order they were appended).
  /// - Parameter id: the row's id, drawn beforehand (`nextval('outbox_id_seq')`); nil: the next.
  public static func appendDeferred(
    _ message: OutboxMessage, id: Int64? = nil, at now: Date = Date(), in db: some SQLConnection
  ) throws {
    let insert = try insertion(message, id: id, at: now, engine: db.engine)
    db.noteOutboxWrite(id: id)
    try db.executeDeferred(insert.sql, insert.arguments)
  }

  /// Appends `message` (under `id` when drawn beforehand, `nextval('outbox_id_seq')`: then
  /// deferred, as ``appendDeferred(_:id:at:in:)``) and returns the row as
  /// ``pending(limit:after:excluding:in:)`` will read it back: what a writer hands its relay
  /// after the commit instead of the relay reading the row (`OutboxHandoff`).
  public static func appendRecord(_ message: OutboxMessage, id: Int64? = nil, at now: Date, in db: some SQLConnection)
    throws -> OutboxRecord
  {
    let columns = OutboxHeaderColumns(splitting: message.headers)
    let insert = try insertion(message, columns: columns, id: id, at: now, engine: db.engine)
    let rowId: Int64
    if let id {
      try db.executeDeferred(insert.sql, insert.arguments)
      rowId = id
    } else {
      rowId = try db.insertReturningID(insert.sql, insert.arguments)
    }
    db.noteOutboxWrite(id: rowId)
    return record(message, columns: columns, id: rowId, at: now, engine: db.engine)
  }

  /// The row `message` becomes under `id`, appended at `now`, exactly as ``pending(limit:after:excluding:in:)``
  /// reads it back (the key and the headers through their columns, the time to the
  /// millisecond). `OutboxTests` compares the two for every kind of row.
  public static func record(_ message: OutboxMessage, id: Int64, at now: Date, engine: SQLEngine) -> OutboxRecord {
    record(message, columns: OutboxHeaderColumns(splitting: message.headers), id: id, at: now, engine: engine)
  }

  private static func record(
    _ message: OutboxMessage, columns: OutboxHeaderColumns, id: Int64, at now: Date, engine: SQLEngine
  ) -> OutboxRecord {
    // The split keeps the order and the text of the envelope: without extras, a read returns
    // the list as it was (a saga event's, every time).
    var headers = message.headers
    if !columns.extras.isEmpty {
      headers = []
      if let envelope = columns.envelope {
        headers.reserveCapacity(envelope.count + columns.extras.count)
        for (name, value) in zip(HeaderName.envelope, envelope) {
          headers.append(RecordHeader(name: name, value: value))
        }
      }
      // Through the column's JSON and back, as a read decodes them.
      headers += HeaderJSON.decode(HeaderJSON.encode(columns.extras)) ?? columns.extras
    }
    let read = OutboxMessage(
      topic: message.topic, keyContent: key(keyColumn(message.keyContent, engine)), payload: message.payload,
      headers: headers)
    return OutboxRecord(
      id: id, message: read, createdAt: Date(millisecondsSinceEpoch: now.millisecondsSinceEpoch), attempts: 0)
  }

  private static let insert = """
    INSERT INTO outbox (
      topic, message_key, payload, event_id, event_type, event_version, traceparent, correlation_id, producer,
      occurred_at, extra_headers, created_at, attempts)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
    """
  private static let insertWithID = """
    INSERT INTO outbox (
      id, topic, message_key, payload, event_id, event_type, event_version, traceparent, correlation_id, producer,
      occurred_at, extra_headers, created_at, attempts)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
    """

  private static func insertion(
    _ message: OutboxMessage, columns: OutboxHeaderColumns? = nil, id: Int64?, at now: Date, engine: SQLEngine
  ) throws -> (sql: String, arguments: [any SQLBindable]) {
    let columns = columns ?? OutboxHeaderColumns(splitting: message.headers)
    let envelope = columns.envelope
    let values: [any SQLBindable] = [
      message.topic, keyColumn(message.keyContent, engine), SQLValue.blob(message.payload), envelope?[0],
      envelope?[1], envelope?[2], envelope?[3], envelope?[4], envelope?[5], envelope?[6],
      try HeaderCoding.encode(columns.extras), now.millisecondsSinceEpoch,
    ]
    guard let id else { return (insert, values) }
    return (insertWithID, [id] + values)
  }

  /// Up to `limit` unsent rows with an id above `after`, oldest id first. Reads only
  /// the partial index of unsent rows, so sent rows kept for retention cost nothing
  /// here. `after` lets a relay skip rows it has handed to the producer already;
  /// `excluding` names rows it has in flight below the ones it wants (the straggler scan),
  /// so that they are neither read nor shipped again.
  public static func pending(
    limit: Int, after: Int64 = 0, excluding: some Collection<Int64> = [Int64](), in db: some SQLConnection
  ) throws -> [OutboxRecord] {
    // SQLite's planner is told the partial index: the relay's scan must never become a
    // table scan however many sent rows retention keeps. PostgreSQL picks it by itself.
    // The excluded ids travel as one array, like `markSent`'s. On PostgreSQL as a subquery,
    // which it hashes once: `NOT (id = ANY(array))` compared every row met with every id (up
    // to a thousand in flight), 10–20 ms per scan at full speed.
    let (exclusion, arguments): (String, [any SQLBindable]) =
      switch (excluding.isEmpty, db.engine) {
      case (true, _): ("", [after, limit])
      case (false, .sqlite):
        ("AND id NOT IN (SELECT value FROM json_each(?))", [after, excluding.jsonArrayLiteral, limit])
      case (false, .postgres):
        ("AND id NOT IN (SELECT unnest(CAST(? AS BIGINT[])))", [after, excluding.bigintArrayLiteral, limit])
      }
    let rows = try db.query(
      """
      SELECT \(pendingColumns)
      FROM outbox \(db.engine == .sqlite ? "INDEXED BY outbox_unsent" : "")
      WHERE sent_at IS NULL AND id > ? \(exclusion) ORDER BY id LIMIT ?
      """,
      arguments)
    return try rows.map { try pendingRecord($0, in: db) }
  }

  /// Those of rows `ids` that are still unsent, oldest id first: what a relay reads when another
  /// instance's commit named the rows it wrote (``OutboxAnnouncement``), by key instead of from
  /// the oldest unsent row.
  public static func pending(ids: some Collection<Int64>, in db: some SQLConnection) throws -> [OutboxRecord] {
    guard !ids.isEmpty else { return [] }
    let filter =
      switch db.engine {
      case .sqlite: "id IN (SELECT value FROM json_each(?))"
      case .postgres: "id = ANY(CAST(? AS BIGINT[]))"
      }
    let list = db.engine == .sqlite ? ids.jsonArrayLiteral : ids.bigintArrayLiteral
    let rows = try db.query(
      "SELECT \(pendingColumns) FROM outbox WHERE \(filter) AND sent_at IS NULL ORDER BY id", [list])
    return try rows.map { try pendingRecord($0, in: db) }
  }

  private static let pendingColumns = """
    id, topic, message_key, payload, created_at, attempts, extra_headers,
           event_id, event_type, event_version, traceparent, correlation_id, producer, occurred_at
    """

  /// A row read with ``pendingColumns``, by position in their order: the relay reads every row
  /// it publishes.
  private static func pendingRecord(_ row: SQLRow, in db: some SQLConnection) throws -> OutboxRecord {
    let id: Int64 = try row.decode(0)
    let message = OutboxMessage(
      topic: try row.decode(1), keyContent: key(row.values[2]), payload: bytes(row.values[3]),
      headers: try headers(row, extrasAt: 6, envelopeAt: 7, name: "outbox row \(id)", in: db))
    return OutboxRecord(
      id: id, message: message, createdAt: Date(millisecondsSinceEpoch: try row.decode(4)),
      attempts: try row.decode(5))
  }

  /// The headers of a row read with `extra_headers` at `extrasAt` and the seven envelope
  /// columns from `envelopeAt` on: a NULL `event_id` means the row has no envelope.
  private static func headers(
    _ row: SQLRow, extrasAt extrasIndex: Int, envelopeAt first: Int, name: @autoclosure () -> String,
    in db: some SQLConnection
  ) throws -> [RecordHeader] {
    let extras = try HeaderCoding.decode(row.decode(extrasIndex), row: name(), in: db)
    guard !row.hasNull(atIndex: first) else { return extras }
    // Straight into the one array the relay publishes: no intermediate list per row.
    var headers: [RecordHeader] = []
    headers.reserveCapacity(HeaderName.envelope.count + extras.count)
    for (offset, header) in HeaderName.envelope.enumerated() {
      guard let value = try row.optional(first + offset, as: String.self) else {
        throw StorageError(
          kind: .corrupt, code: 0, path: db.location,
          message: "\(name()): event_id is set but \(OutboxHeaderColumns.envelopeColumns[offset]) is NULL")
      }
      headers.append(RecordHeader(name: header, value: value))
    }
    headers += extras
    return headers
  }

  /// Marks rows sent at `now`; rows already sent keep their first time. Returns
  /// how many rows changed.
  @discardableResult
  public static func markSent(ids: some Collection<Int64>, at now: Date = Date(), in db: some SQLConnection) throws
    -> Int
  {
    guard !ids.isEmpty else { return 0 }
    // The ids travel as one array: a single statement, cached on the connection, whatever
    // their number (an `IN (?, ?, …)` list is new SQL for every count and is capped by
    // SQLite's parameter limit). Every relay round runs it on the writer.
    return switch db.engine {
    case .sqlite:
      try db.execute(
        "UPDATE outbox SET sent_at = ? WHERE sent_at IS NULL AND id IN (SELECT value FROM json_each(?))",
        [now.millisecondsSinceEpoch, ids.jsonArrayLiteral])
    case .postgres:
      try db.execute(
        "UPDATE outbox SET sent_at = ? WHERE sent_at IS NULL AND id = ANY(CAST(? AS BIGINT[]))",
        [now.millisecondsSinceEpoch, ids.bigintArrayLiteral])
    }
  }

  /// Counts a failed publish attempt on unsent rows, for the relay's logs and
  /// metrics, with the error (`sagactl outbox list`); the rows stay pending.
  @discardableResult
  public static func recordFailedAttempt(ids: some Collection<Int64>, error: String? = nil, in db: some SQLConnection)
    throws
    -> Int
  {
    try updateInChunks(ids, in: db) { placeholders in
      (
        """
        UPDATE outbox SET attempts = attempts + 1, last_error = coalesce(?, last_error)
        WHERE sent_at IS NULL AND id IN (\(placeholders))
        """,
        [error.map { String($0.prefix(1_000)) }]
      )
    }
  }

  /// Closes unsent row `id` without publishing it (its copy went to the dead-letter store):
  /// it leaves the relay's queue and is purged with the sent rows. False if the row does not
  /// exist or is no longer pending.
  @discardableResult
  public static func close(id: Int64, reason: String, at now: Date, in db: some SQLConnection) throws -> Bool {
    try db.execute(
      "UPDATE outbox SET sent_at = ?, closed_reason = ? WHERE id = ? AND sent_at IS NULL",
      [now.millisecondsSinceEpoch, String(reason.prefix(1_000)), id]) == 1
  }

  /// Up to `limit` rows with an id above `after`, oldest first: only the pending ones, or
  /// (`includeDone`) every row retention still keeps, sent and closed ones too.
  public static func entries(includeDone: Bool, limit: Int, after: Int64 = 0, in db: some SQLConnection) throws
    -> [OutboxEntry]
  {
    let filter = includeDone ? "" : "sent_at IS NULL AND "
    let rows = try db.query(
      """
      SELECT id, topic, message_key, payload, created_at, attempts, extra_headers,
             event_id, event_type, event_version, traceparent, correlation_id, producer, occurred_at,
             sent_at, closed_reason, last_error
      FROM outbox WHERE \(filter)id > ? ORDER BY id LIMIT ?
      """,
      [after, limit])
    return try rows.map { try entry($0, in: db) }
  }

  /// Row `id` in whatever state, or nil once purged (or never written).
  public static func entry(id: Int64, in db: some SQLConnection) throws -> OutboxEntry? {
    try db.query(
      """
      SELECT id, topic, message_key, payload, created_at, attempts, extra_headers,
             event_id, event_type, event_version, traceparent, correlation_id, producer, occurred_at,
             sent_at, closed_reason, last_error
      FROM outbox WHERE id = ?
      """,
      [id]
    ).first.map { try entry($0, in: db) }
  }

  private static func entry(_ row: SQLRow, in db: some SQLConnection) throws -> OutboxEntry {
    let id: Int64 = try row.decode(0)
    let message = OutboxMessage(
      topic: try row.decode(1), keyContent: key(row.values[2]), payload: bytes(row.values[3]),
      headers: try headers(row, extrasAt: 6, envelopeAt: 7, name: "outbox row \(id)", in: db))
    let record = OutboxRecord(
      id: id, message: message, createdAt: Date(millisecondsSinceEpoch: try row.decode(4)),
      attempts: try row.decode(5))
    return OutboxEntry(
      record: record, sentAt: try row.optional(14, as: Int64.self).map(Date.init(millisecondsSinceEpoch:)),
      closedReason: try row.optional(15), lastError: try row.optional(16))
  }

  /// Deletes rows sent before `cutoff` and returns how many. Unsent rows are never
  /// deleted, however old: they are messages still owed to Kafka.
  @discardableResult
  public static func purgeSent(olderThan cutoff: Date, in db: some SQLConnection) throws -> Int {
    try db.execute(
      "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?", [cutoff.millisecondsSinceEpoch])
  }

  /// How many rows wait to be published (`sagad_outbox_pending`).
  public static func pendingCount(in db: some SQLConnection) throws -> Int {
    try db.value(Int.self, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") ?? 0
  }

  /// When the longest-waiting unsent row was appended, or nil when none waits
  /// (`sagad_outbox_oldest_age_seconds`). Taken from the lowest id rather than
  /// `MIN(created_at)` so it stays one index probe while a broker outage piles up
  /// rows; the two differ only if the wall clock stepped back.
  public static func oldestPendingCreatedAt(in db: some SQLConnection) throws -> Date? {
    try db.value(Int64.self, "SELECT created_at FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT 1")
      .map(Date.init(millisecondsSinceEpoch:))
  }

  /// `message_key` holds a text key as TEXT, as it always did, and a key that is not
  /// UTF-8 (a dead letter's copy of a peer's key) as a BLOB, so no byte is lost.
  /// PostgreSQL types its columns strictly, so there `message_key` is BYTEA and every key is
  /// bytes (read back as text when they are UTF-8).
  private static func keyColumn(_ key: RecordBytes, _ engine: SQLEngine) -> SQLValue {
    switch key {
    case .text(let text): engine == .sqlite ? .text(text) : .blob(Array(text.utf8))
    case .binary(let bytes): .blob(bytes)
    case .null: .null
    }
  }

  private static func key(_ column: SQLValue) -> RecordBytes {
    switch column {
    case .text(let text): .text(text)
    case .blob(let data): RecordBytes(data)
    // TEXT affinity stores numbers as text; these two are there for completeness.
    case .integer(let number): .text(String(number))
    case .real(let number): .text(String(number))
    case .null: .null
    }
  }

  private static func bytes(_ column: SQLValue) -> [UInt8] {
    switch column {
    case .blob(let bytes): bytes
    case .text(let text): Array(text.utf8)
    default: []
    }
  }

  /// SQLite caps bound parameters per statement (32,766 here); a relay batch can
  /// be larger, so ids go in chunks well below the cap.
  private static func updateInChunks(
    _ ids: some Collection<Int64>, in db: some SQLConnection,
    statement: (String) -> (String, [any SQLBindable])
  ) throws -> Int {
    var changed = 0
    let all = Array(ids)
    for start in stride(from: 0, to: all.count, by: 500) {
      let chunk = all[start..<min(start + 500, all.count)]
      let (sql, leading) = statement(Array(repeating: "?", count: chunk.count).joined(separator: ","))
      changed += try db.execute(sql, leading + chunk.map { $0 as any SQLBindable })
    }
    return changed
  }
}
