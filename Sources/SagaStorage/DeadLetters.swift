public import Foundation
public import GRDB

/// Dead-lettering in the consume loop's transaction: `mark` remembers that a consumer
/// group dead-lettered the record at (topic, partition, offset), `publish` writes the
/// dead letter to the outbox. Kafka redelivers a record whose batch committed in the
/// database but not in Kafka (a crash between the two commits); `mark` answers false for
/// it, so it is dead-lettered, and its handler's `deadLettered` hook runs, only once.
///
/// The inbox is deliberately not claimed for a dead-lettered record: a replay of it from
/// the DLT store carries the same event id and must still be processed, once.
public enum DeadLetters {
  /// Records that `letter`'s consumer group gives up on its record and returns true, or
  /// returns false when it already did (the caller then writes nothing).
  public static func mark(_ letter: DeadLetter, at now: Date, in db: Database) throws -> Bool {
    try db.cachedStatement(
      sql: """
        INSERT OR IGNORE INTO dead_lettered
          (consumer_group, topic, "partition", "offset", failure_class, reason_code, attempts, dead_lettered_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """
    ).execute(arguments: [
      letter.consumerGroup, letter.message.topic, letter.message.partition, letter.message.offset,
      letter.failureClass.rawValue, letter.error.code.rawValue, letter.attempts, now.millisecondsSinceEpoch,
    ])
    return db.changesCount == 1
  }

  /// Appends `letter` to the outbox for `<topic>.DLT`; returns the outbox row id.
  @discardableResult
  public static func publish(_ letter: DeadLetter, at now: Date, in db: Database) throws -> Int64 {
    try Outbox.append(letter.outboxMessage, at: now, in: db)
  }

  /// Whether `group` dead-lettered the record at (topic, partition, offset).
  public static func contains(
    group: String, topic: String, partition: Int32, offset: Int64, in db: Database
  ) throws -> Bool {
    try Bool.fetchOne(
      db,
      sql: """
        SELECT EXISTS (SELECT 1 FROM dead_lettered
                       WHERE consumer_group = ? AND topic = ? AND "partition" = ? AND "offset" = ?)
        """,
      arguments: [group, topic, partition, offset]) ?? false
  }

  /// How many records were dead-lettered (by `group`, or by every group).
  public static func count(group: String? = nil, in db: Database) throws -> Int {
    try Int.fetchOne(
      db, sql: "SELECT COUNT(*) FROM dead_lettered WHERE ? IS NULL OR consumer_group = ?",
      arguments: [group, group]) ?? 0
  }
}
