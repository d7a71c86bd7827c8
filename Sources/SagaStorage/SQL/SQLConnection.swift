/// The storage seam (Docs/storage-engines.md): one connection inside a transaction, SQLite's or
/// PostgreSQL's, which the stores run their SQL on. Statements use `?` placeholders; where the
/// engines' SQL differs, a store asks `engine`. Synchronous, as the stores are: they run inside
/// `SagaDatabase.write { }` on a thread of the engine's own (GRDB's writer queue, or the
/// PostgreSQL engine's thread pool), never on Swift's cooperative pool.
public protocol SQLConnection {
  var engine: SQLEngine { get }

  /// Where the data lives, for error messages: the SQLite file, or the PostgreSQL schema.
  var location: String { get }

  /// Runs a statement; returns how many rows it changed.
  @discardableResult
  func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int

  /// Runs a write whose row count nobody needs, now or with the connection's next statement
  /// (PostgreSQL holds it back so that both cost one round trip; SQLite runs it at once).
  /// Its error may therefore come from a later call in the same transaction: where a failure
  /// must be pinned on what caused it (one record of a batch), call `flushDeferred()` first.
  func executeDeferred(_ sql: String, _ arguments: [any SQLBindable]) throws

  /// Sends the writes `executeDeferred` held back, now.
  func flushDeferred() throws

  /// Whether writes are held back (the next statement's failure may be theirs).
  var hasDeferredWrites: Bool { get }

  /// Whether the last statement that failed carried held writes, or followed a statement sent
  /// unanswered (``sendUnanswered(_:_:)``): its failure may be theirs.
  var lastFailureCarriedDeferredWrites: Bool { get }

  /// Sends a statement whose answer nobody reads (a row lock, `SELECT … FOR UPDATE`) without
  /// waiting for it: PostgreSQL runs it before the connection's next statement, and both cost
  /// one round trip. Its failure is thrown by the next statement that is awaited (or by
  /// `flushDeferred()`), and counts as held writes' (``lastFailureCarriedDeferredWrites``):
  /// not the failure of the record whose statement reported it. SQLite runs it at once.
  func sendUnanswered(_ sql: String, _ arguments: [any SQLBindable]) throws

  /// Whether a row lock a statement takes (`FOR UPDATE`) lasts until the write ends: false in a
  /// write of one statement (``SagaDatabase/writeInOneStatement(_:)`` on PostgreSQL), where each
  /// read runs on its own and its locks end with it, so a read need not take them.
  var keepsLocks: Bool { get }

  /// Notes that the transaction wrote outbox row `id` (nil: its id is drawn as the insert runs;
  /// ``Outbox`` calls it): on PostgreSQL, an instance whose relay is a standby announces such a
  /// commit, with the ids, to the lease holder's relay (``SagaDatabase/announceOutboxWrites(_:)``).
  /// Nothing on SQLite.
  func noteOutboxWrite(id: Int64?)

  /// Runs a query; returns its rows.
  func query(_ sql: String, _ arguments: [any SQLBindable]) throws -> [SQLRow]

  /// Sends a statement whose rows are needed, but not before the next statement's: PostgreSQL
  /// runs it in front of the connection's next statement and one wait brings both answers
  /// (a consume batch's inbox claims ahead of its reads); `rows()` of the result waits only if
  /// nothing was awaited since. Its failure is thrown by `rows()` and by the next statement
  /// awaited. The transaction's `BEGIN`, if not sent yet, goes unanswered in front of it, a
  /// write too. SQLite runs it at once.
  func queryAhead(_ sql: String, _ arguments: [any SQLBindable]) throws -> SQLPendingRows

  /// Runs a query that the held writes may ride with although it names their tables: the
  /// caller vouches that it reads no row they write, so a snapshot without them answers the
  /// same (`pay` reading a wallet no earlier request of its group touched). Otherwise `query`.
  func queryBesideDeferred(_ sql: String, _ arguments: [any SQLBindable]) throws -> [SQLRow]

  /// Runs `body` in a savepoint of the current transaction: released when it returns
  /// `.commit`, rolled back when it returns `.rollback` or throws (and then rethrown). The
  /// consume loop and `pay` open one per record or request, so one bad record does not undo
  /// its batch.
  func savepoint(_ body: () throws -> SavepointCompletion) throws
}

/// How a savepoint's body ends.
public enum SavepointCompletion: Sendable {
  case commit
  case rollback
}

/// The storage engines sagad runs on (`storage.engine`).
public enum SQLEngine: String, Sendable, Hashable, CaseIterable {
  case sqlite
  case postgres
}

extension SQLConnection {
  public func executeDeferred(_ sql: String, _ arguments: [any SQLBindable]) throws { try execute(sql, arguments) }

  public func flushDeferred() throws {}

  public func sendUnanswered(_ sql: String, _ arguments: [any SQLBindable]) throws { _ = try query(sql, arguments) }

  public func noteOutboxWrite(id: Int64?) {}

  public var hasDeferredWrites: Bool { false }

  public var keepsLocks: Bool { true }

  public var lastFailureCarriedDeferredWrites: Bool { false }

  public func queryBesideDeferred(_ sql: String, _ arguments: [any SQLBindable]) throws -> [SQLRow] {
    try query(sql, arguments)
  }

  public func queryAhead(_ sql: String, _ arguments: [any SQLBindable]) throws -> SQLPendingRows {
    let rows = try query(sql, arguments)
    return SQLPendingRows { rows }
  }

  @discardableResult
  public func execute(_ sql: String) throws -> Int { try execute(sql, []) }

  public func query(_ sql: String) throws -> [SQLRow] { try query(sql, []) }

  /// The first column of the first row, nil when there is no row or it is NULL.
  public func value<T: SQLColumnValue>(
    _ type: T.Type = T.self, _ sql: String, _ arguments: [any SQLBindable] = []
  ) throws -> T? {
    guard let row = try query(sql, arguments).first, !row.values.isEmpty else { return nil }
    return try row.optional(0)
  }

  /// Runs an `INSERT` and returns the `id` it assigned (`RETURNING id`, which both engines speak;
  /// SQLite's last-row-id would not carry over).
  public func insertReturningID(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int64 {
    guard let row = try query(sql + " RETURNING id", arguments).first else {
      throw StorageError(kind: .other, code: 0, path: location, message: "INSERT returned no id: \(sql)")
    }
    return try row.decode(0)
  }
}
