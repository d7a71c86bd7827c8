public import Foundation
public import GRDB
public import SagaCore

/// The durable retry schedule (Docs/design.md, "Retries"): a record that kept failing transiently
/// after its in-place attempts waits here, while its partition moves on, until its next
/// attempt is due. Written in the consume loop's batch transaction, so parking a record
/// and committing past it in Kafka are one decision; a restart finds the entry again.
///
/// One row per (consumer group, topic, partition, offset). Every function runs in the
/// caller's transaction.
public enum RetrySchedule {
  /// Parks `message` for `group` with its attempt count and last error, due at `dueAt`.
  /// Returns false, changing nothing, when the record is parked already: a redelivery
  /// after a crash between the database and the offset commit leaves the first entry
  /// (and its attempt count) in charge.
  @discardableResult
  public static func park(
    _ message: InboundMessage, group: String, timestampType: String?, attempts: Int, error: SagaError,
    at now: Date, dueAt: Date, in db: Database
  ) throws -> Bool {
    try db.cachedStatement(
      sql: """
        INSERT INTO retry_schedule
          (consumer_group, topic, "partition", "offset", message_key, payload, headers, "timestamp",
           timestamp_type, attempts, first_failed_at, last_error_code, last_error_message, due_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (consumer_group, topic, "partition", "offset") DO NOTHING
        """
    ).execute(arguments: [
      group, message.topic, message.partition, message.offset, message.key.map { Data($0) },
      message.value.map { Data($0) },
      try HeaderCoding.encode(message.headers),
      message.timestampMilliseconds, timestampType, attempts, now.millisecondsSinceEpoch, error.code.rawValue,
      error.message, dueAt.millisecondsSinceEpoch,
    ])
    return db.changesCount == 1
  }

  /// Up to `limit` entries of `group` due at `now`, the earliest due first.
  public static func due(group: String, at now: Date, limit: Int, in db: Database) throws -> [RetryEntry] {
    try entries(
      db, where: "consumer_group = ? AND due_at <= ?", [group, now.millisecondsSinceEpoch],
      order: "due_at, id", limit: limit)
  }

  /// Up to `limit` entries (of `group`, or of every group), in the order they were parked,
  /// after id `afterId` when given: for `status` and operators.
  public static func list(
    group: String? = nil, limit: Int, afterId: Int64? = nil, in db: Database
  ) throws -> [RetryEntry] {
    try entries(
      db, where: "(? IS NULL OR consumer_group = ?) AND id > ?", [group, group, afterId ?? 0], order: "id",
      limit: limit)
  }

  /// Records another failed attempt of entry `id`: its new count, error and due time.
  public static func reschedule(
    id: Int64, attempts: Int, error: SagaError, dueAt: Date, in db: Database
  ) throws {
    try db.execute(
      sql: """
        UPDATE retry_schedule SET attempts = ?, last_error_code = ?, last_error_message = ?, due_at = ?
        WHERE id = ?
        """,
      arguments: [attempts, error.code.rawValue, error.message, dueAt.millisecondsSinceEpoch, id])
  }

  /// Removes entry `id` (it succeeded, or was dead-lettered).
  public static func delete(id: Int64, in db: Database) throws {
    try db.execute(sql: "DELETE FROM retry_schedule WHERE id = ?", arguments: [id])
  }

  /// When the earliest entry of `group` is due, or nil when none waits.
  public static func nextDueAt(group: String, in db: Database) throws -> Date? {
    try Int64.fetchOne(
      db, sql: "SELECT MIN(due_at) FROM retry_schedule WHERE consumer_group = ?", arguments: [group]
    ).map(Date.init(millisecondsSinceEpoch:))
  }

  /// How many entries wait (of `group`, or of every group).
  public static func count(group: String? = nil, in db: Database) throws -> Int {
    try Int.fetchOne(
      db, sql: "SELECT COUNT(*) FROM retry_schedule WHERE ? IS NULL OR consumer_group = ?",
      arguments: [group, group]) ?? 0
  }

  /// When the longest-waiting entry (of `group`, or of every group) first failed, or nil
  /// when none waits: how long the oldest retry has been going on.
  public static func oldestFirstFailedAt(group: String? = nil, in db: Database) throws -> Date? {
    try Int64.fetchOne(
      db, sql: "SELECT MIN(first_failed_at) FROM retry_schedule WHERE ? IS NULL OR consumer_group = ?",
      arguments: [group, group]
    ).map(Date.init(millisecondsSinceEpoch:))
  }

  private static func entries(
    _ db: Database, where condition: String, _ arguments: StatementArguments, order: String, limit: Int
  ) throws -> [RetryEntry] {
    let rows = try Row.fetchAll(
      db,
      sql: """
        SELECT id, consumer_group, topic, "partition", "offset", message_key, payload, headers, "timestamp",
               timestamp_type, attempts, first_failed_at, last_error_code, last_error_message, due_at
        FROM retry_schedule WHERE \(condition) ORDER BY \(order) LIMIT ?
        """,
      arguments: arguments + [limit])
    return try rows.map { row in
      let id: Int64 = row["id"]
      let key: Data? = row["message_key"]
      let value: Data? = row["payload"]
      let headers = try HeaderCoding.decode(row["headers"], row: "retry_schedule row \(id)", in: db)
      let message = InboundMessage(
        topic: row["topic"], partition: row["partition"], offset: row["offset"], key: key.map { [UInt8]($0) },
        value: value.map { [UInt8]($0) }, headers: headers,
        timestampMilliseconds: row["timestamp"])
      return RetryEntry(
        id: id, consumerGroup: row["consumer_group"], message: message, timestampType: row["timestamp_type"],
        attempts: row["attempts"], firstFailedAt: Date(millisecondsSinceEpoch: row["first_failed_at"]),
        lastError: SagaError(
          SagaError.Code(rawValue: row["last_error_code"]), row["last_error_message"], failureClass: .transient),
        dueAt: Date(millisecondsSinceEpoch: row["due_at"]))
    }
  }
}
