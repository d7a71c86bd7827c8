import Foundation
public import Logging
import NIOCore
public import PostgresNIO
import Synchronization

/// PostgreSQL's side of the seam: one PostgresNIO connection used synchronously, so that the
/// stores' code is the same for both engines. Every call blocks until the server answers: it
/// runs on a thread of the engine's own pool (`PostgresEngine`), never on an event loop or
/// Swift's cooperative pool. `?` placeholders become `$1`, `$2`, … (converted once per statement).
public final class PostgresSQLConnection: SQLConnection, Sendable {
  public let connection: PostgresConnection
  /// The service's schema (`search_path`), for error messages.
  public let schema: String
  private let logger: Logger

  /// - Parameter location: what errors name (the engine's redacted URL and schema), so that a
  ///   store's error and the database's `path` agree.
  /// - Parameter patience: how long one statement's answer is awaited before the connection is
  ///   given up (closed, the transaction failing as unavailable): a bound on a server that
  ///   never answers, beyond its own `statement_timeout`.
  /// - Parameter prepares: whether statements sent again run prepared (``PreparedStatements``);
  ///   off behind a pooler that shares server sessions between clients.
  public init(
    _ connection: PostgresConnection, schema: String = "public", location: String? = nil,
    patience: Duration = .seconds(60), prepares: Bool = true, logger: Logger
  ) {
    self.patience = patience
    self.prepares = prepares
    self.connection = connection
    self.schema = schema
    self.location = location ?? "PostgreSQL schema \(schema)"
    self.logger = logger
  }

  public var engine: SQLEngine { .postgres }

  public let location: String
  private let patience: Duration
  /// Writes held for the next statement; one transaction uses the connection at a time.
  private let deferred = Mutex(DeferredWrites())
  private let prepares: Bool
  private let prepared = Mutex(PreparedStatements())
  /// The open transaction's `BEGIN`, not sent yet (``begin(_:)``).
  private let pendingBegin = Mutex<String?>(nil)
  /// A write of one statement is open (``beginOneStatement()``): held writes go only at its end.
  private let oneStatement = Atomic<Bool>(false)
  /// Held writes sent without waiting for their answer (``executeDeferred(_:_:)``), in the
  /// order sent: the next statement whose answer is awaited reports the first of them that
  /// failed.
  private let unanswered = Mutex<[EventLoopFuture<Void>]>([])
  /// The outbox rows the open transaction wrote (``noteOutboxWrite(id:)``): nil, none; an
  /// announcement without ids once one of them had none.
  private let outboxWrites = Mutex<OutboxAnnouncement?>(nil)

  /// How many times a thread waited for the server's answer on this connection: the round
  /// trips the stores' code paid for (statements sent unanswered in front of another count
  /// with it).
  public var roundTrips: Int { waits.load(ordering: .relaxed) }
  private let waits = Atomic<Int>(0)

  /// How many statements this connection sent (`BEGIN` and `COMMIT` too, not the `PREPARE`s
  /// and `DEALLOCATE`s of ``PreparedStatements``): PostgresNIO sends each once the one before
  /// is answered, so each is a round trip on the wire, waited for by the event loop and the
  /// server if not by the engine's thread.
  public var statementsSent: Int { sent.load(ordering: .relaxed) - planStatements.load(ordering: .relaxed) }
  private let sent = Atomic<Int>(0)
  /// The `PREPARE`s and `DEALLOCATE`s among ``sent``, counted where they are made.
  private let planStatements = Atomic<Int>(0)

  /// Sends `query`; every statement goes through here.
  private func dispatch(_ query: PostgresQuery) -> EventLoopFuture<PostgresQueryResult> {
    sent.add(1, ordering: .relaxed)
    return connection.query(query, logger: logger)
  }

  /// How many statements this connection has prepared on the server.
  public var preparedCount: Int { prepared.withLock { $0.count } }

  /// Whether the connection is gone (server restart, network): the engine then opens a new one.
  public var isClosed: Bool { connection.isClosed }

  @discardableResult
  public func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int {
    try run(sql, arguments).metadata.rows ?? 0
  }

  /// Holds the write back until the next statement, which carries it (see ``DeferredWrites``
  /// for what is merged and what is sent first).
  public func executeDeferred(_ sql: String, _ arguments: [any SQLBindable]) throws {
    guard let write = DeferredWrites.write(sql, arguments.map(\.sqlValue)) else {
      try execute(sql, arguments)
      return
    }
    if !deferred.withLock({ $0.accepts(write) }) { try sendDeferredUnanswered() }
    deferred.withLock { $0.hold(write) }
  }

  /// Sends the held writes as one statement without waiting for its answer, to make room for
  /// a write of a table they hold: a `pay` group's requests or a batch's records then follow
  /// each other with no wait in between (Docs/storage-engines.md, "Round trips, and deferred
  /// writes"). Their failure surfaces at the transaction's next awaited statement, as a held
  /// write's always did, with ``lastFailureCarriedDeferredWrites`` set.
  private func sendDeferredUnanswered() throws {
    if oneStatement.load(ordering: .relaxed), !deferred.withLock({ $0.isEmpty }) {
      throw oneStatementRefusal("held writes would go before the end (a write of a table they hold)")
    }
    let writes = deferred.withLock { $0.take() }
    guard !writes.isEmpty else { return }
    let merged = DeferredWrites.merged(writes, before: nil)
    // A write: its BEGIN is awaited first (`openTransaction` returns nil for it).
    _ = try openTransaction(before: merged.sql)
    let query = try statement(merged.sql, merged.arguments, carrying: true)
    sendQueued(Unanswered(query, sql: merged.sql, carrying: true))
  }

  public var keepsLocks: Bool { !oneStatement.load(ordering: .relaxed) }

  /// Also while held writes sent unanswered have not been answered: the next statement's
  /// failure may still be theirs.
  public var hasDeferredWrites: Bool {
    deferred.withLock { !$0.isEmpty } || unanswered.withLock { !$0.isEmpty }
  }

  public var lastFailureCarriedDeferredWrites: Bool { deferred.withLock { $0.lastFailureCarriedWrites } }

  /// Sends the held writes now, as one statement, and waits for them and for those sent
  /// unanswered before: their failure is thrown here.
  public func flushDeferred() throws {
    if oneStatement.load(ordering: .relaxed) { throw oneStatementRefusal("held writes flushed before the end") }
    try sendHeld(before: nil)
  }

  /// The held writes as one statement (in front of `statement` when given), awaited with
  /// whatever was sent unanswered before; only those when nothing is held.
  private func sendHeld(before statement: (sql: String, arguments: [SQLValue])?) throws {
    let writes = deferred.withLock { $0.take() }
    guard !writes.isEmpty else {
      try awaitUnanswered()
      return
    }
    let merged = DeferredWrites.merged(writes, before: statement)
    _ = try send(merged.sql, merged.arguments, carrying: true)
  }

  /// The held writes sent unanswered, as one future that fails with the first failure among
  /// them; nil when there are none.
  private func takeUnanswered() -> EventLoopFuture<Void>? {
    unanswered.withLock { sent in
      defer { sent = [] }
      return sent.first.map { first in sent.dropFirst().reduce(first) { chain, next in chain.flatMap { next } } }
    }
  }

  /// Waits for the held writes sent unanswered, if any.
  private func awaitUnanswered() throws {
    guard let chain = takeUnanswered() else { return }
    do {
      try answer(chain)
    } catch let failure as UnansweredFailure {
      throw remember(failure.underlying, for: failure.sql, carrying: failure.carrying)
    } catch {
      throw remember(error, for: "held writes", carrying: true)
    }
  }

  public func query(_ sql: String, _ arguments: [any SQLBindable]) throws -> [SQLRow] {
    try rows(of: run(sql, arguments))
  }

  /// Held writes first (they were written before it), then the transaction's unsent `BEGIN`,
  /// then `sql`, none of them awaited: they join the writes sent unanswered, whose failures
  /// the next awaited statement reports.
  public func sendUnanswered(_ sql: String, _ arguments: [any SQLBindable]) throws {
    if oneStatement.load(ordering: .relaxed) { throw oneStatementRefusal("a statement sent unanswered: \(sql)") }
    try sendDeferredUnanswered()
    let begin = try openTransaction(before: sql)
    // Sent on the transaction's behalf, like held writes: its failure is nobody's in particular.
    let query = try statement(sql, arguments.map(\.sqlValue), carrying: true)
    for next in [begin, Unanswered(query, sql: sql, carrying: true)].compactMap({ $0 }) { sendQueued(next) }
  }

  /// Held writes first, then the transaction's unsent `BEGIN` (awaited here unless `sql` may
  /// follow it unanswered), then `sql`, none of them awaited: the next awaited statement waits
  /// for them too and reports the first failure, and ``SQLPendingRows/rows()`` then reads
  /// `sql`'s answer without a wait of its own.
  public func queryAhead(_ sql: String, _ arguments: [any SQLBindable]) throws -> SQLPendingRows {
    try refuseInOneStatement(sql)
    try sendDeferredUnanswered()
    // Even when it writes (a batch's inbox claims, its first statement): awaiting BEGIN here
    // cost every batch a round trip of its own (see `mayFollowUnansweredBegin`).
    let begin = try openTransaction(before: sql, evenAWrite: true)
    let query = try statement(sql, arguments.map(\.sqlValue), carrying: false)
    if let begin { sendQueued(begin) }
    let future = dispatch(query)
    let arrived = Mutex<Result<PostgresQueryResult, any Error>?>(nil)
    future.whenComplete { result in arrived.withLock { $0 = result } }
    unanswered.withLock { $0.append(Self.unanswered(future, sql: sql, carrying: false)) }
    return SQLPendingRows { [self] in
      do {
        // Awaited already with a later statement, or waited for now.
        return try rows(of: try arrived.withLock({ $0 })?.get() ?? answer(future))
      } catch let error as StorageError {
        throw error
      } catch {
        throw remember(error, for: sql, carrying: false)
      }
    }
  }

  public func queryBesideDeferred(_ sql: String, _ arguments: [any SQLBindable]) throws -> [SQLRow] {
    try rows(of: run(sql, arguments, readsNoHeldRow: true))
  }

  private func rows(of result: PostgresQueryResult) throws -> [SQLRow] {
    let columns = SQLColumnNames(result.rows.first.map { row in row.map(\.columnName) } ?? [])
    do {
      return try result.rows.map { row in SQLRow(try row.map(Self.value), columns: columns) }
    } catch {
      throw StorageError(postgres: error, location: location)
    }
  }

  /// A failed statement aborts the whole transaction in PostgreSQL until it rolls back to the
  /// savepoint: this is what lets the batch go on after one record's failure.
  public func savepoint(_ body: () throws -> SavepointCompletion) throws {
    try SavepointFlow.run(
      open: { try execute("SAVEPOINT saga") }, release: { try execute("RELEASE SAVEPOINT saga") },
      rollBack: { try execute("ROLLBACK TO SAVEPOINT saga") }, body)
  }

  /// Opens a transaction with `statement` (`BEGIN …`), sent only with the transaction's first
  /// statement, right in front of it (``send(_:_:carrying:)``): the engine's thread then waits
  /// for one answer instead of two, and a transaction that sends nothing costs no round trip
  /// (Docs/storage-engines.md, "Round trips, and deferred writes").
  public func begin(_ statement: String) {
    outboxWrites.withLock { $0 = nil }
    deferred.withLock { _ = $0.take() }
    unanswered.withLock { $0 = [] }
    pendingBegin.withLock { $0 = statement }
  }

  /// Opens a write of one statement (``SagaDatabase/writeInOneStatement(_:)``): no transaction;
  /// each read runs on its own, and the writes are held until ``finishOneStatement(notifying:)``
  /// sends them as one statement. Whatever would send them earlier, or write on its own, is
  /// refused: in autocommit it would commit part of the write.
  func beginOneStatement() {
    outboxWrites.withLock { $0 = nil }
    deferred.withLock { _ = $0.take() }
    unanswered.withLock { $0 = [] }
    pendingBegin.withLock { $0 = nil }
    oneStatement.store(true, ordering: .relaxed)
  }

  /// Sends the held writes as one statement and waits for it: atomic by itself, it commits
  /// all of them or none. `notify` (a `SELECT pg_notify(…)`) is its main statement when
  /// given: delivered only if the writes commit.
  func finishOneStatement(notifying notify: (sql: String, arguments: [SQLValue])?) throws {
    oneStatement.store(false, ordering: .relaxed)
    // No held writes, no outbox rows: nothing to notify.
    try sendHeld(before: deferred.withLock { $0.isEmpty } ? nil : notify)
  }

  /// Drops a write of one statement that failed before its end: nothing of it was sent.
  func abandonOneStatement() {
    oneStatement.store(false, ordering: .relaxed)
    deferred.withLock { _ = $0.take() }
    unanswered.withLock { $0 = [] }
  }

  /// Refuses `sql` inside a write of one statement unless it is a read sent while no write is
  /// held: a read behind held writes would send them early, and a write would commit alone.
  private func refuseInOneStatement(_ sql: String) throws {
    guard oneStatement.load(ordering: .relaxed) else { return }
    guard deferred.withLock({ $0.isEmpty }) else { throw oneStatementRefusal("a statement after held writes: \(sql)") }
    guard Self.isRead(sql) else { throw oneStatementRefusal("a write that cannot be held: \(sql)") }
  }

  private func oneStatementRefusal(_ what: String) -> StorageError {
    StorageError(
      kind: .other, code: 0, path: location,
      message: "a write of one statement cannot take \(what); nothing of it was written")
  }

  public func noteOutboxWrite(id: Int64?) {
    outboxWrites.withLock { written in
      // Taken out and put back, so the ids grow in place: a batch writes one row per record.
      var announcement = written.take() ?? OutboxAnnouncement(ids: [])
      if let id { announcement.ids?.append(id) } else { announcement.ids = nil }
      written = announcement
    }
  }

  /// The outbox rows the open transaction wrote, nil if none; cleared by asking.
  func takeOutboxWrites() -> OutboxAnnouncement? {
    outboxWrites.withLock { $0.take() }
  }

  /// Rolls the open transaction back; sends nothing when its `BEGIN` was never sent.
  public func rollback() throws {
    deferred.withLock { _ = $0.take() }
    // What was sent unanswered is undone with the rest; the ROLLBACK queues behind it.
    unanswered.withLock { $0 = [] }
    if pendingBegin.withLock({ $0.take() }) != nil { return }
    try execute("ROLLBACK")
  }

  /// Commits the open transaction, its held writes sent in front of the `COMMIT` without
  /// waiting for their answer in between. A transaction whose only statement is its held
  /// writes sends them as one statement without `BEGIN` and `COMMIT`: a statement on its own
  /// is atomic. PostgreSQL answers a COMMIT of a transaction that a failed statement aborted
  /// with ROLLBACK and no error: that must not pass for a commit.
  public func commit() throws {
    let unsent = pendingBegin.withLock { $0.take() } != nil
    let writes = deferred.withLock { $0.take() }
    let merged = writes.isEmpty ? nil : DeferredWrites.merged(writes, before: nil)
    if unsent {
      if let merged { _ = try send(merged.sql, merged.arguments, carrying: true) }
      return
    }
    let before = try merged.map { merged in
      Unanswered(try statement(merged.sql, merged.arguments, carrying: true), sql: merged.sql, carrying: true)
    }
    let tag = try ask(PostgresQuery(unsafeSQL: "COMMIT"), for: "COMMIT", carrying: false, after: before)
      .metadata.command
    guard tag == "COMMIT" else {
      throw StorageError(
        kind: .other, code: 0, path: location,
        message: "the transaction was aborted by an earlier failed statement and rolled back (COMMIT answered \(tag))")
    }
  }

  /// Runs a script of several statements (migrations), one statement at a time: PostgresNIO
  /// speaks the extended protocol only, which takes one statement per message. Statements end
  /// at a `;` outside quotes; the scripts hold no functions or triggers with bodies.
  public func executeScript(_ sql: String) throws {
    for statement in Self.statements(sql) { try execute(statement) }
  }

  static func statements(_ script: String) -> [String] {
    var statements: [String] = []
    var current = ""
    var quote: Character?
    var comment = false
    var previous: Character?
    for character in script {
      if comment {
        if character == "\n" { comment = false }
        previous = character
        continue
      }
      if let open = quote {
        if character == open { quote = nil }
      } else if character == "'" || character == "\"" {
        quote = character
      } else if character == "-", previous == "-" {
        current.removeLast()
        comment = true
        previous = nil
        continue
      } else if character == ";" {
        let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !statement.isEmpty { statements.append(statement) }
        current = ""
        previous = character
        continue
      }
      current.append(character)
      previous = character
    }
    let last = current.trimmingCharacters(in: .whitespacesAndNewlines)
    if !last.isEmpty { statements.append(last) }
    return statements
  }

  /// Runs `sql`, carrying the held writes in front of it when it can (else they go first).
  /// A rollback drops them: they belong to what it undoes.
  /// - Parameter readsNoHeldRow: the caller vouches that `sql` reads no row the held writes
  ///   write: it may carry them although it names their tables.
  private func run(_ sql: String, _ arguments: [any SQLBindable], readsNoHeldRow: Bool = false) throws
    -> PostgresQueryResult
  {
    try refuseInOneStatement(sql)
    let values = arguments.map(\.sqlValue)
    let writes = deferred.withLock { held -> [DeferredWrites.Write] in
      if sql.hasPrefix("ROLLBACK") || sql.hasPrefix("BEGIN") {
        _ = held.take()
        // Sent after the savepoint (or transaction) being rolled back: undone with it.
        unanswered.withLock { $0 = [] }
      }
      return held.isEmpty || !held.canPrecede(sql, namingTheirTables: readsNoHeldRow) ? [] : held.take()
    }
    if writes.isEmpty {
      // Held writes it cannot carry go in front of it, unanswered: one wait for both.
      try sendDeferredUnanswered()
      return try send(sql, values, carrying: false)
    }
    let merged = DeferredWrites.merged(writes, before: (sql, values))
    return try send(merged.sql, merged.arguments, carrying: true)
  }

  /// `carrying`: whether `sql` holds deferred writes, remembered when it fails. The open
  /// transaction's unsent `BEGIN` goes first, unanswered when `sql` may follow it so.
  private func send(_ sql: String, _ values: [SQLValue], carrying: Bool) throws -> PostgresQueryResult {
    let begin = try openTransaction(before: sql)
    return try ask(statement(sql, values, carrying: carrying), for: sql, carrying: carrying, after: begin)
  }

  /// Sends the open transaction's unsent `BEGIN`, if any, for `sql` to follow: returned to go
  /// unanswered right in front of it when `sql` may follow it so (`evenAWrite`: whatever it is),
  /// else sent and awaited here.
  private func openTransaction(before sql: String, evenAWrite: Bool = false) throws -> Unanswered? {
    guard let begin = pendingBegin.withLock({ $0.take() }) else { return nil }
    let query = PostgresQuery(unsafeSQL: begin)
    if evenAWrite || Self.mayFollowUnansweredBegin(sql) { return Unanswered(query, sql: begin, carrying: false) }
    _ = try ask(query, for: begin, carrying: false)
    return nil
  }

  /// Whether `sql` may go to the server right behind a `BEGIN` whose answer was not awaited.
  /// If that `BEGIN` failed, `sql` would run on its own, outside any transaction. On a live
  /// session `BEGIN` fails only inside a transaction that an error aborted, where `sql` fails
  /// too; still, only statements that change nothing when run alone go behind it: a `SELECT`
  /// (the decisions that open a `pay` group and the reads; `FOR UPDATE` locks end with the
  /// statement, and ids drawn from a sequence only leave a gap) and `SAVEPOINT`. A write
  /// waits for its `BEGIN`'s answer, except a consume batch's claims (``queryAhead(_:_:)``),
  /// its first statement, which would otherwise cost every batch a wait of its own.
  static func mayFollowUnansweredBegin(_ sql: String) -> Bool {
    let word = firstWord(sql)
    return word == "select" || word == "savepoint"
  }

  /// Whether `sql` is a `SELECT` (a read, or a lock that ends with it in autocommit).
  static func isRead(_ sql: String) -> Bool { firstWord(sql) == "select" }

  /// The statement's first word, lowercased, when it is one of the few the callers look for
  /// (up to 9 letters); "" otherwise. Hot paths ask for every statement.
  private static func firstWord(_ sql: String) -> String {
    let first = sql.utf8.drop(while: { $0 == 32 || $0 == 10 || $0 == 9 || $0 == 13 })
      .prefix(while: { $0 != 32 && $0 != 10 && $0 != 9 && $0 != 13 && $0 != 40 })
    guard first.count <= 9 else { return "" }
    return String(decoding: first, as: UTF8.self).lowercased()
  }

  /// The query that runs `sql` with `values`: `EXECUTE` of its prepared statement, or the
  /// statement itself with its values bound. The first time on this connection (and whenever
  /// its plan is due again) the `PREPARE` is sent here, unanswered: it joins the statements
  /// the next awaited one waits for, so preparing costs no round trip of its own, and its
  /// failure surfaces there, named after `sql`.
  private func statement(_ sql: String, _ values: [SQLValue], carrying: Bool) throws -> PostgresQuery {
    let numbered = Self.numbered(sql)
    if prepares, let plan = prepared.withLock({ $0.plan(numbered, values) }) {
      if let prepare = plan.prepare {
        // The plan it replaces goes right in front (its name is never sent again).
        if let replaced = plan.replaces {
          planStatements.add(1, ordering: .relaxed)
          sendQueued(Unanswered(PostgresQuery(unsafeSQL: "DEALLOCATE \(replaced)"), sql: sql, carrying: carrying))
        }
        // Recorded now, so that the same statement sent again before this one's answer is not
        // prepared twice; PREPARE is not transactional: it stays even if this transaction
        // rolls back. One that fails (in a transaction an earlier statement aborted, say) is
        // forgotten before its failure reaches anyone: prepared anew next time.
        prepared.withLock { $0.prepared(numbered, values: values, name: plan.name) }
        // Registered before any waiter chains onto it, so it runs first.
        planStatements.add(1, ordering: .relaxed)
        sendQueued(Unanswered(PostgresQuery(unsafeSQL: prepare), sql: sql, carrying: carrying)).whenFailure {
          [self] _ in prepared.withLock { $0.unprepared(numbered, values: values, name: plan.name) }
        }
      }
      return PostgresQuery(unsafeSQL: PreparedStatements.execute(plan.name, values))
    }
    var binds = PostgresBindings(capacity: values.count)
    for value in values {
      switch value {
      case .null: binds.appendNull()
      case .integer(let number): binds.append(number)
      case .real(let number): binds.append(number)
      case .text(let text): binds.append(text)
      case .blob(let bytes): binds.append(ByteBuffer(bytes: bytes))
      }
    }
    return PostgresQuery(unsafeSQL: numbered, binds: binds)
  }

  /// A statement sent without waiting for its answer, right in front of the next one.
  private struct Unanswered {
    var query: PostgresQuery
    /// What its errors name.
    var sql: String
    var carrying: Bool

    init(_ query: PostgresQuery, sql: String, carrying: Bool) {
      self.query = query
      self.sql = sql
      self.carrying = carrying
    }
  }

  /// The failure of a statement sent unanswered, told apart from the statement awaited.
  private struct UnansweredFailure: Error {
    var underlying: any Error
    var sql: String
    var carrying: Bool
  }

  /// The answer to `query`, which runs `sql`; a failure is remembered and named after `sql`.
  /// The held writes sent unanswered before it, then `before`, then `query`: PostgresNIO runs
  /// a connection's queries in order, and this thread waits once, for the last answer; the
  /// first of them that failed is the error (whatever the later ones then did).
  /// - Parameter before: sent now, right in front of `query`, its answer not awaited either.
  private func ask(
    _ query: PostgresQuery, for sql: String, carrying: Bool, after before: Unanswered? = nil
  ) throws -> PostgresQueryResult {
    do {
      var earlier = takeUnanswered()
      if let before {
        let sent = sendWithoutWaiting(before)
        earlier = earlier.map { chain in chain.flatMap { sent } } ?? sent
      }
      let main = dispatch(query)
      return try answer(earlier.map { chain in chain.flatMap { main } } ?? main)
    } catch let failure as UnansweredFailure {
      throw remember(failure.underlying, for: failure.sql, carrying: failure.carrying)
    } catch {
      throw remember(error, for: sql, carrying: carrying)
    }
  }

  /// Sends `statement` to the server, its answer to be awaited with the transaction's next
  /// awaited statement (``takeUnanswered()``).
  @discardableResult
  private func sendQueued(_ statement: Unanswered) -> EventLoopFuture<Void> {
    let sent = sendWithoutWaiting(statement)
    unanswered.withLock { $0.append(sent) }
    return sent
  }

  /// Sends `statement` to the server; its answer is not awaited here. The future fails with an
  /// ``UnansweredFailure`` naming it, so that whoever awaits it can tell it from its own.
  private func sendWithoutWaiting(_ statement: Unanswered) -> EventLoopFuture<Void> {
    Self.unanswered(
      dispatch(statement.query), sql: statement.sql, carrying: statement.carrying)
  }

  /// `answer` as a statement sent unanswered: its rows dropped, its failure an
  /// ``UnansweredFailure`` naming `sql`.
  private static func unanswered(
    _ answer: EventLoopFuture<PostgresQueryResult>, sql: String, carrying: Bool
  ) -> EventLoopFuture<Void> {
    answer.map { _ in () }.flatMapErrorThrowing { error in
      throw UnansweredFailure(underlying: error, sql: sql, carrying: carrying)
    }
  }

  /// `error` of the statement `sql`, as the stores see it.
  private func remember(_ error: any Error, for sql: String, carrying: Bool) -> StorageError {
    deferred.withLock { $0.lastFailureCarriedWrites = carrying }
    let failure = StorageError(postgres: error, location: location, statement: sql)
    if failure.sqlState == "26000" {
      // The server lost its prepared statements under us (a pooler's DISCARD or DEALLOCATE
      // ALL): prepare anew; the error is retriable (``StorageError/kind(sqlState:)``).
      prepared.withLock { $0.forgetAll() }
    }
    return failure
  }

  /// The future's value, waited for at most `patience` on this (the engine's) thread. A
  /// connection whose answer does not come within it is closed, so that it leaves the pool,
  /// and the statement fails as unavailable: the transaction is retried on a new connection.
  private func answer<T: Sendable>(_ future: EventLoopFuture<T>) throws -> T {
    waits.add(1, ordering: .relaxed)
    let done = DispatchSemaphore(value: 0)
    let result = Mutex<Result<T, any Error>?>(nil)
    future.whenComplete { outcome in
      result.withLock { $0 = outcome }
      done.signal()
    }
    let seconds = Double(patience.components.seconds) + Double(patience.components.attoseconds) / 1e18
    guard done.wait(timeout: .now() + seconds) == .success, let outcome = result.withLock({ $0 }) else {
      let closing: EventLoopFuture<Void> = connection.close()
      _ = closing
      throw StorageError(
        kind: .unavailable, code: 0, path: location,
        message: "no answer from PostgreSQL within \(patience); the connection is closed")
    }
    return try outcome.get()
  }

  private static let numberedCache = Mutex<[String: String]>([:])

  /// `?` → `$n`, outside quoted strings and identifiers; the stores' statements are a fixed
  /// set, so each is converted once. Not kept: texts longer than 4 KiB, the statements that
  /// held writes of many rows make (their shapes are many, and a daemon runs for months).
  static func numbered(_ sql: String) -> String {
    let cacheable = sql.utf8.count <= 4_096
    if cacheable, let cached = numberedCache.withLock({ $0[sql] }) { return cached }
    var out: [UInt8] = []
    out.reserveCapacity(sql.utf8.count + 16)
    var index = 0
    var quote: UInt8?
    // Bytes: the quotes and `?` are ASCII, and a UTF-8 continuation byte is never one of them.
    for byte in sql.utf8 {
      if let open = quote {
        if byte == open { quote = nil }
        out.append(byte)
      } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
        quote = byte
        out.append(byte)
      } else if byte == UInt8(ascii: "?") {
        index += 1
        out.append(UInt8(ascii: "$"))
        out.append(contentsOf: String(index).utf8)
      } else {
        out.append(byte)
      }
    }
    let numbered = String(decoding: out, as: UTF8.self)
    // Statements built from a variable list (`IN (?, ?, …)` chunks) are few shapes too.
    if cacheable {
      numberedCache.withLock { cache in
        if cache.count < 4_096 { cache[sql] = numbered }
      }
    }
    return numbered
  }

  private static func value(_ cell: PostgresCell) throws -> SQLValue {
    guard cell.bytes != nil else { return .null }
    switch cell.dataType {
    case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
    case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
    case .float4, .float8: return .real(try cell.decode(Double.self))
    case .numeric:
      // `SUM` of a BIGINT column is NUMERIC; the audits sum amounts, which are whole numbers.
      let number = NSDecimalNumber(decimal: try cell.decode(Decimal.self))
      return number.doubleValue.rounded() == number.doubleValue
        ? .integer(number.int64Value) : .real(number.doubleValue)
    case .bytea:
      let buffer = try cell.decode(ByteBuffer.self)
      return .blob(Array(buffer.readableBytesView))
    default: return .text(try cell.decode(String.self))
    }
  }
}
