/// The storage seam (Docs/architecture.md, "Storage engines"; issue 14): one connection inside
/// a transaction, SQLite's or PostgreSQL's, which the stores run their SQL on. Statements use
/// `?` placeholders; where the engines' SQL differs, a store asks `engine`. Synchronous, as
/// the stores are: they run inside `write { }` on a thread of the engine's own (GRDB's writer
/// queue, or the PostgreSQL engine's pool), never on the cooperative pool.
public protocol SQLConnection {
  var engine: SQLEngine { get }

  /// Runs a statement; returns how many rows it changed.
  @discardableResult
  func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int

  /// Runs a query; returns its rows, each row's values in column order.
  func query(_ sql: String, _ arguments: [SQLValue]) throws -> [[SQLValue]]
}

/// The storage engines sagad runs on (`storage.engine`).
public enum SQLEngine: String, Sendable, Hashable, CaseIterable {
  case sqlite
  case postgres
}

extension SQLConnection {
  /// The first column of the first row, if any.
  public func scalar(_ sql: String, _ arguments: [SQLValue] = []) throws -> SQLValue? {
    try query(sql, arguments).first?.first
  }
}
