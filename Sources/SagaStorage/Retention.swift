public import Foundation
public import GRDB

/// How long sent outbox rows and inbox entries are kept (`outbox.retention`,
/// `inbox.retention`).
public struct RetentionPolicy: Sendable, Equatable {
  /// Sent outbox rows older than this are deleted; they only serve diagnosis.
  public var outbox: Duration
  /// Inbox entries older than this are deleted. It bounds how late a redelivery
  /// can come and still be recognised by event id, so keep it well above any
  /// consumer downtime you expect; business keys catch the rest.
  public var inbox: Duration

  public init(outbox: Duration = .seconds(24 * 3600), inbox: Duration = .seconds(7 * 24 * 3600)) {
    self.outbox = outbox
    self.inbox = inbox
  }
}

/// What one purge removed.
public struct PurgeResult: Sendable, Equatable {
  public var outboxRows: Int
  public var inboxRows: Int

  public init(outboxRows: Int, inboxRows: Int) {
    self.outboxRows = outboxRows
    self.inboxRows = inboxRows
  }
}

/// Applies a ``RetentionPolicy``. Failed messages are never purged: each one waits
/// for an operator.
public enum Retention {
  /// Runs both purges in the caller's transaction.
  public static func purge(_ policy: RetentionPolicy, now: Date = Date(), in db: Database) throws -> PurgeResult {
    PurgeResult(
      outboxRows: try Outbox.purgeSent(olderThan: now.subtracting(policy.outbox), in: db),
      inboxRows: try Inbox.purge(olderThan: now.subtracting(policy.inbox), in: db))
  }
}

extension SagaDatabase {
  /// Runs both purges in one write transaction.
  @discardableResult
  public func purge(_ policy: RetentionPolicy, now: Date = Date()) async throws -> PurgeResult {
    try await write { db in try Retention.purge(policy, now: now, in: db) }
  }
}
