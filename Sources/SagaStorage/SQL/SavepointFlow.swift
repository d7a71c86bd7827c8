/// How a savepoint runs on either engine (`SQLConnection.savepoint`), given the engine's three
/// statements: `body`, then `release` when it returns `.commit`; `rollBack` then `release` when
/// it returns `.rollback` or throws. The first error wins: the body's own over a failed cleanup.
enum SavepointFlow {
  static func run(
    open: () throws -> Void, release: () throws -> Void, rollBack: () throws -> Void,
    _ body: () throws -> SavepointCompletion
  ) throws {
    try open()
    var firstError: (any Error)?
    var rollback = true
    do {
      rollback = try body() == .rollback
    } catch {
      firstError = error
    }
    if !rollback {
      try release()
      return
    }
    do {
      // Rolling back keeps the savepoint open; the release pops it.
      try rollBack()
      try release()
    } catch {
      if firstError == nil { firstError = error }
    }
    if let firstError { throw firstError }
  }
}
