import Foundation
public import GRDB

/// The durable record of permanent failures (issue 3, item 5): until the DLT
/// lands, a message that can never be processed is written here, in the batch
/// transaction, and its offset is committed, so it neither stalls the partition
/// nor vanishes. Rows are never purged automatically: each one needs a human.
public enum FailedMessages {
  /// Records `message` and returns true, or returns false if this consumer group
  /// already recorded the same (topic, partition, offset) — a replay after a crash
  /// between the database commit and the offset commit. The first record wins.
  @discardableResult
  public static func record(_ message: FailedMessage, in db: Database) throws -> Bool {
    try db.execute(
      sql: """
        INSERT OR IGNORE INTO failed_messages
          (consumer_group, topic, "partition", "offset", message_key, payload, headers, reason_code, reason, failed_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
      arguments: [
        message.consumerGroup, message.topic, message.partition, message.offset, message.key,
        Data(message.payload), try HeaderCoding.encode(message.headers), message.reasonCode, message.reason,
        message.failedAt.millisecondsSinceEpoch,
      ])
    return db.changesCount == 1
  }

  /// Up to `limit` records in the order they were recorded, starting after id
  /// `afterId` when given (for paging).
  public static func list(limit: Int, afterId: Int64? = nil, in db: Database) throws -> [FailedMessageRecord] {
    let rows = try Row.fetchAll(
      db,
      sql: """
        SELECT id, consumer_group, topic, "partition", "offset", message_key, payload, headers,
               reason_code, reason, failed_at
        FROM failed_messages WHERE id > ? ORDER BY id LIMIT ?
        """,
      arguments: [afterId ?? 0, limit])
    return try rows.map { row in
      let id: Int64 = row["id"]
      let payload: Data = row["payload"] ?? Data()
      let message = FailedMessage(
        consumerGroup: row["consumer_group"], topic: row["topic"], partition: row["partition"],
        offset: row["offset"], key: row["message_key"], payload: [UInt8](payload),
        headers: try HeaderCoding.decode(row["headers"], row: "failed_messages row \(id)", in: db),
        reasonCode: row["reason_code"], reason: row["reason"],
        failedAt: Date(millisecondsSinceEpoch: row["failed_at"]))
      return FailedMessageRecord(id: id, message: message)
    }
  }

  /// How many failures are recorded.
  public static func count(in db: Database) throws -> Int {
    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM failed_messages") ?? 0
  }
}
