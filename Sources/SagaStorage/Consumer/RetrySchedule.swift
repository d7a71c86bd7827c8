public import Foundation
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
    at now: Date, dueAt: Date, in db: some SQLConnection
  ) throws -> Bool {
    try db.execute(
      """
      INSERT INTO retry_schedule
        (consumer_group, topic, "partition", "offset", message_key, payload, headers, "timestamp",
         timestamp_type, attempts, first_failed_at, last_error_code, last_error_message, due_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (consumer_group, topic, "partition", "offset") DO NOTHING
      """,
      [
        group, message.topic, message.partition, message.offset, message.key.map(SQLValue.blob),
        message.value.map(SQLValue.blob), try HeaderCoding.encode(message.headers),
        message.timestampMilliseconds, timestampType, attempts, now.millisecondsSinceEpoch, error.code.rawValue,
        error.message, dueAt.millisecondsSinceEpoch,
      ]) == 1
  }

  /// Up to `limit` entries of `group` due at `now`, the earliest due first. On PostgreSQL,
  /// where several instances share the schedule, the rows are locked for the caller's
  /// transaction and rows another instance holds are skipped (`FOR UPDATE SKIP LOCKED`):
  /// each entry is retried by one instance.
  public static func due(group: String, at now: Date, limit: Int, in db: some SQLConnection) throws -> [RetryEntry] {
    try entries(
      db, where: "consumer_group = ? AND due_at <= ?", [group, now.millisecondsSinceEpoch],
      order: "due_at, id", limit: limit, locking: db.engine == .postgres ? " FOR UPDATE SKIP LOCKED" : "")
  }

  /// Up to `limit` entries (of `group`, or of every group), in the order they were parked,
  /// after id `afterId` when given: for `status` and operators.
  public static func list(
    group: String? = nil, limit: Int, afterId: Int64? = nil, in db: some SQLConnection
  ) throws -> [RetryEntry] {
    try entries(
      db, where: (group == nil ? "" : "consumer_group = ? AND ") + "id > ?",
      group.map { [$0, afterId ?? 0] } ?? [afterId ?? 0],
      order: "id", limit: limit)
  }

  /// Records another failed attempt of entry `id`: its new count, error and due time.
  public static func reschedule(
    id: Int64, attempts: Int, error: SagaError, dueAt: Date, in db: some SQLConnection
  ) throws {
    try db.execute(
      """
      UPDATE retry_schedule SET attempts = ?, last_error_code = ?, last_error_message = ?, due_at = ?
      WHERE id = ?
      """,
      [attempts, error.code.rawValue, error.message, dueAt.millisecondsSinceEpoch, id])
  }

  /// Removes entry `id` (it succeeded, or was dead-lettered).
  public static func delete(id: Int64, in db: some SQLConnection) throws {
    try db.execute("DELETE FROM retry_schedule WHERE id = ?", [id])
  }

  /// When the earliest entry of `group` is due, or nil when none waits.
  public static func nextDueAt(group: String, in db: some SQLConnection) throws -> Date? {
    try db.value(Int64.self, "SELECT MIN(due_at) FROM retry_schedule WHERE consumer_group = ?", [group])
      .map(Date.init(millisecondsSinceEpoch:))
  }

  /// How many entries wait (of `group`, or of every group).
  public static func count(group: String? = nil, in db: some SQLConnection) throws -> Int {
    try db.value(Int.self, "SELECT COUNT(*) FROM retry_schedule" + groupFilter(group), group.map { [$0] } ?? []) ?? 0
  }

  /// When the longest-waiting entry (of `group`, or of every group) first failed, or nil
  /// when none waits: how long the oldest retry has been going on.
  public static func oldestFirstFailedAt(group: String? = nil, in db: some SQLConnection) throws -> Date? {
    try db.value(
      Int64.self, "SELECT MIN(first_failed_at) FROM retry_schedule" + groupFilter(group), group.map { [$0] } ?? []
    ).map(Date.init(millisecondsSinceEpoch:))
  }

  /// A condition on an optional group, as SQL of its own per case: PostgreSQL cannot type a
  /// NULL parameter in `? IS NULL`.
  static func groupFilter(_ group: String?) -> String {
    group == nil ? "" : " WHERE consumer_group = ?"
  }

  private static func entries(
    _ db: some SQLConnection, where condition: String, _ arguments: [any SQLBindable], order: String, limit: Int,
    locking: String = ""
  ) throws -> [RetryEntry] {
    let rows = try db.query(
      """
      SELECT id, consumer_group, topic, "partition", "offset", message_key, payload, headers, "timestamp",
             timestamp_type, attempts, first_failed_at, last_error_code, last_error_message, due_at
      FROM retry_schedule WHERE \(condition) ORDER BY \(order) LIMIT ?\(locking)
      """,
      arguments + [limit])
    return try rows.map { row in
      let id: Int64 = try row.decode(0)
      let key = try row.optional(5, as: Data.self)
      let value = try row.optional(6, as: Data.self)
      let headers = try HeaderCoding.decode(row.decode(7), row: "retry_schedule row \(id)", in: db)
      let message = InboundMessage(
        topic: try row.decode(2), partition: try row.decode(3), offset: try row.decode(4),
        key: key.map { [UInt8]($0) }, value: value.map { [UInt8]($0) }, headers: headers,
        timestampMilliseconds: try row.optional(8))
      return RetryEntry(
        id: id, consumerGroup: try row.decode(1), message: message, timestampType: try row.optional(9),
        attempts: try row.decode(10), firstFailedAt: Date(millisecondsSinceEpoch: try row.decode(11)),
        lastError: SagaError(
          SagaError.Code(rawValue: try row.decode(12)), try row.decode(13), failureClass: .transient),
        dueAt: Date(millisecondsSinceEpoch: try row.decode(14)))
    }
  }
}
