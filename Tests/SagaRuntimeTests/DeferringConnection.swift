import SagaStorage

/// SQLite's connection made to defer writes as PostgreSQL's does: `executeDeferred` holds the
/// statement until the next call, so tests on SQLite meet a held write's failure where a
/// PostgreSQL transaction would, later than the call that made it.
final class DeferringConnection: SQLConnection {
  let base: any SQLConnection
  private var held: [(String, [any SQLBindable])] = []

  init(_ base: any SQLConnection) { self.base = base }

  var engine: SQLEngine { base.engine }
  var location: String { base.location }
  var hasDeferredWrites: Bool { !held.isEmpty }
  private(set) var lastFailureCarriedDeferredWrites = false

  func executeDeferred(_ sql: String, _ arguments: [any SQLBindable]) throws { held.append((sql, arguments)) }

  func flushDeferred() throws {
    let writes = held
    held = []
    do {
      for (sql, arguments) in writes { try base.execute(sql, arguments) }
    } catch {
      lastFailureCarriedDeferredWrites = true
      throw error
    }
  }

  func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int {
    try flushDeferred()
    return try own { try base.execute(sql, arguments) }
  }

  func query(_ sql: String, _ arguments: [any SQLBindable]) throws -> [SQLRow] {
    try flushDeferred()
    return try own { try base.query(sql, arguments) }
  }

  /// A statement that carries no held write: its failure is its own.
  private func own<T>(_ statement: () throws -> T) throws -> T {
    do {
      return try statement()
    } catch {
      lastFailureCarriedDeferredWrites = false
      throw error
    }
  }

  func savepoint(_ body: () throws -> SavepointCompletion) throws {
    try flushDeferred()
    try base.savepoint {
      let completion = try body()
      if completion == .commit { try flushDeferred() } else { held = [] }
      return completion
    }
  }
}
