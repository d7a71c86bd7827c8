public import Foundation

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
  public static func mark(_ letter: DeadLetter, at now: Date, in db: some SQLConnection) throws -> Bool {
    try db.execute(
      """
      INSERT INTO dead_lettered
        (consumer_group, topic, "partition", "offset", failure_class, reason_code, attempts, dead_lettered_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
      """,
      [
        letter.consumerGroup, letter.message.topic, letter.message.partition, letter.message.offset,
        letter.failureClass.rawValue, letter.error.code.rawValue, letter.attempts, now.millisecondsSinceEpoch,
      ]) == 1
  }

  /// Appends `letter` to the outbox for `<topic>.DLT`; returns the outbox row id.
  @discardableResult
  public static func publish(_ letter: DeadLetter, at now: Date, in db: some SQLConnection) throws -> Int64 {
    try Outbox.append(letter.outboxMessage, at: now, in: db)
  }

  /// Whether `group` dead-lettered the record at (topic, partition, offset).
  public static func contains(
    group: String, topic: String, partition: Int32, offset: Int64, in db: some SQLConnection
  ) throws -> Bool {
    try db.value(
      Bool.self,
      """
      SELECT EXISTS (SELECT 1 FROM dead_lettered
                     WHERE consumer_group = ? AND topic = ? AND "partition" = ? AND "offset" = ?)
      """,
      [group, topic, partition, offset]) ?? false
  }

  /// How many records were dead-lettered (by `group`, or by every group).
  public static func count(group: String? = nil, in db: some SQLConnection) throws -> Int {
    try db.value(
      Int.self, "SELECT COUNT(*) FROM dead_lettered" + RetrySchedule.groupFilter(group), group.map { [$0] } ?? []) ?? 0
  }
}
