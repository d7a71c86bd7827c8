public import Foundation

/// How long the bookkeeping rows of a service database are kept (`outbox.retention`,
/// `inbox.retention`, `timeline.retention`). Without it they would grow for as long as
/// sagad runs: several rows per saga.
public struct RetentionPolicy: Sendable, Equatable {
  /// Sent outbox rows older than this are deleted; they only serve diagnosis.
  public var outbox: Duration
  /// Inbox entries and dead-letter marks older than this are deleted. It bounds how
  /// late a redelivery can come and still be recognised by event id (or as dead-lettered
  /// already), so keep it well above any consumer downtime you expect; business keys
  /// catch the rest.
  public var inbox: Duration
  /// Saga timeline steps (what `sagactl saga` shows) older than this are deleted.
  public var timeline: Duration
  /// The timeline tables of this database: each has an `id` in insertion order and an
  /// `at` in epoch milliseconds. Set by whoever knows the schema (the node, per service).
  public var timelineTables: [String]

  public init(
    outbox: Duration = .seconds(24 * 3600), inbox: Duration = .seconds(7 * 24 * 3600),
    timeline: Duration = .seconds(30 * 24 * 3600), timelineTables: [String] = []
  ) {
    self.outbox = outbox
    self.inbox = inbox
    self.timeline = timeline
    self.timelineTables = timelineTables
  }
}

/// What one purge removed.
public struct PurgeResult: Sendable, Equatable {
  public var outboxRows: Int
  public var inboxRows: Int
  public var deadLetterMarks = 0
  public var timelineRows = 0

  public init(outboxRows: Int, inboxRows: Int, deadLetterMarks: Int = 0, timelineRows: Int = 0) {
    self.outboxRows = outboxRows
    self.inboxRows = inboxRows
    self.deadLetterMarks = deadLetterMarks
    self.timelineRows = timelineRows
  }
}

/// Applies a ``RetentionPolicy``. Failed messages are never purged: each one waits
/// for an operator.
public enum Retention {
  /// Runs every purge in the caller's transaction.
  public static func purge(_ policy: RetentionPolicy, now: Date = Date(), in db: some SQLConnection) throws
    -> PurgeResult
  {
    let inboxCutoff = now.subtracting(policy.inbox)
    var result = PurgeResult(
      outboxRows: try Outbox.purgeSent(olderThan: now.subtracting(policy.outbox), in: db),
      inboxRows: try Inbox.purge(olderThan: inboxCutoff, in: db))
    result.deadLetterMarks = try db.execute(
      "DELETE FROM dead_lettered WHERE dead_lettered_at < ?", [inboxCutoff.millisecondsSinceEpoch])
    for table in policy.timelineTables {
      result.timelineRows += try purgeTimeline(table, olderThan: now.subtracting(policy.timeline), in: db)
    }
    return result
  }

  /// Steps are appended in time order, so the first step young enough bounds the old
  /// ones: found in rowid order it costs a read of the rows about to go (the table has no
  /// index on `at`, and one would cost every step a second insert), then a rowid range delete.
  private static func purgeTimeline(_ table: String, olderThan cutoff: Date, in db: some SQLConnection) throws -> Int {
    let millis = cutoff.millisecondsSinceEpoch
    if let firstKept = try db.value(Int64.self, "SELECT id FROM \(table) WHERE at >= ? ORDER BY id LIMIT 1", [millis]) {
      // Both bounds: with several instances on one database (PostgreSQL) ids follow commit
      // order and `at` each host's clock, so a young step may sit below `firstKept`.
      return try db.execute("DELETE FROM \(table) WHERE id < ? AND at < ?", [firstKept, millis])
    }
    return try db.execute("DELETE FROM \(table) WHERE at < ?", [millis])
  }
}

extension SagaDatabase {
  /// Runs every purge in one write transaction.
  @discardableResult
  public func purge(_ policy: RetentionPolicy, now: Date = Date()) async throws -> PurgeResult {
    try await write { db in try Retention.purge(policy, now: now, in: db) }
  }
}
