public import GRDB

extension Database {
  /// Runs `body` in a savepoint of the current transaction, released when it returns
  /// `.commit`, rolled back when it returns `.rollback` or throws (and then rethrown),
  /// as GRDB's `inSavepoint` does, but with its three statements cached on the
  /// connection. The consume loop and `pay` open one savepoint per record or request;
  /// parsing `SAVEPOINT` and `RELEASE` anew each time was ~5 % of the saga's CPU.
  ///
  /// Outside a transaction it is GRDB's `inSavepoint`, which opens one.
  public func inCachedSavepoint(_ body: () throws -> TransactionCompletion) throws {
    guard isInsideTransaction else { return try inSavepoint(body) }
    try cachedStatement(sql: "SAVEPOINT saga").execute()
    var firstError: (any Error)?
    var rollback = true
    do {
      rollback = try body() == .rollback
    } catch {
      firstError = error
    }
    if !rollback {
      // SQLite may have rolled the whole transaction back (I/O error, full disk):
      // say so rather than releasing a savepoint that no longer exists.
      guard isInsideTransaction else {
        throw DatabaseError(resultCode: .SQLITE_ABORT, message: "Transaction was aborted")
      }
      try cachedStatement(sql: "RELEASE SAVEPOINT saga").execute()
      return
    }
    do {
      // Rolling back keeps the savepoint open; the release pops it.
      try cachedStatement(sql: "ROLLBACK TRANSACTION TO SAVEPOINT saga").execute()
      try cachedStatement(sql: "RELEASE SAVEPOINT saga").execute()
    } catch {
      if firstError == nil { firstError = error }
    }
    if let firstError { throw firstError }
  }
}
