import Foundation
import Logging
import SagaCore
import SagaStorage
import Tracing

/// What a consume worker does to records inside its write transaction (Docs/design.md, "Processing model"):
/// run each in a savepoint (inbox claim, the handler), and decide what a failure means
/// under the retry policy: retry in place, park in `retry_schedule`, or dead-letter
/// through the outbox. Everything here is synchronous and runs on GRDB's writer queue;
/// waiting (in-place delays, due times) is the worker's business.
struct RecordProcessor: Sendable {
  /// A consumed record with what the dead letter needs beyond `InboundMessage`.
  struct Record: Sendable {
    var message: InboundMessage
    var timestampType: String?
  }

  /// What one pass over a batch did.
  struct BatchResult: Sendable {
    var applied = 0
    var duplicates = 0
    var parked = 0
    var deadLettered = 0
    /// Set when the record at `index` (of the records passed) failed transiently and has
    /// in-place attempts left: everything before it is done, it and the rest wait.
    var retryInPlace: (index: Int, attempt: Int, error: SagaError)?
    /// The earliest due time of the records parked in this pass.
    var earliestDue: Date?
    /// The rows written to the outbox (events, dead letters) as the relay would read them,
    /// handed to it after the commit; nil when some are not known
    /// (``CommitActions/writtenRecords``). Set by the worker from its ``CommitActions``, where
    /// every outbox write is noted, since an applied record need not emit anything (Payments
    /// applying a reward completes a saga and sends nothing).
    var outboxRecords: [OutboxRecord]? = []
    /// Whether anything was written to the outbox: only then is the relay woken.
    var wroteOutbox: Bool { outboxRecords != [] }
  }

  /// What one run of due `retry_schedule` entries did.
  struct DueResult: Sendable {
    var succeeded = 0
    var duplicates = 0
    var rescheduled = 0
    var deadLettered = 0
    var nextDue: Date?
    var depth = 0
  }

  /// How dead-lettering a record ended.
  enum DeadLetterOutcome: Sendable {
    /// The dead letter is in the outbox (the hook ran) or was already, from a first delivery.
    case written
    case alreadyDeadLettered
    /// The hook failed transiently: nothing was written, try again later.
    case deferred(SagaError)
  }

  let handler: any SagaMessageHandler
  let service: SagaService
  var policy: RetryPolicy
  let logger: Logger
  /// Where every handler run is counted (Docs/metrics.md); nil counts nothing.
  var metrics: WorkerMetrics? = nil
  /// Traces every handler run as a consumer span (Docs/tracing.md); nil traces nothing.
  var tracer: SagaTracer? = nil

  var group: String { handler.consumerGroup.rawValue }

  private enum RunOutcome {
    case applied
    case duplicate
    case failed(SagaError)
  }

  /// Runs `records` in order; the first one has already run `firstAttempt - 1` times.
  /// Stops early only for an in-place retry (see ``BatchResult/retryInPlace``).
  /// Metrics wait in `afterCommit` (nil: counted at once) until the transaction commits.
  ///
  /// `isolated: false` runs the records without a savepoint each (two statements less per
  /// record, six round trips per saga on PostgreSQL): the first failure throws
  /// ``NeedsIsolation``, which rolls the whole transaction back, and the caller runs the batch
  /// again isolated. Failures are rare, so the common batch pays for no savepoint at all.
  /// The last record's deferred writes are still held when it returns: the caller's commit
  /// sends them, and a failed commit of such a batch runs it again isolated too.
  /// The isolated run is given the failure (`known`): that record's handler is not run
  /// again, so its attempts count as if it had been isolated from the start.
  ///
  /// `inOneStatement` (with `isolated: false`, inside `SagaDatabase.writeInOneStatement`): the
  /// claims are read with the batch's reads and their inserts held with its writes, and
  /// nothing is locked (`SagaMessageHandler.writesInOneStatement`); any failure throws, and
  /// the caller runs the batch again as a transaction.
  func apply(
    _ records: ArraySlice<Record>, firstAttempt: Int, now: Date, in db: any SQLConnection,
    afterCommit: CommitActions? = nil, isolated: Bool = true, known: NeedsIsolation? = nil,
    inOneStatement: Bool = false
  ) throws -> BatchResult {
    var result = BatchResult()
    var claims: [Bool]?
    var memory: BatchMemory?
    if isolated {
      // Isolated, the lock comes first and is waited for: the first record's savepoint must
      // not take the lock's failure for its own, and every read is made under it.
      try handler.lockShared(records.map(\.message), in: db)
      do { try db.flushDeferred() } catch { throw SagaError.storage(error) }
    } else if inOneStatement {
      // Reads first (the inbox's and the handler's, one wait for both), then the claims'
      // inserts, held with the records' writes until the statement's end.
      let pending = try batchStep { try Inbox.claimAllHeld(records.map(\.claim), group: group, at: now, in: db) }
      memory = BatchMemory(prefetched: try prefetch(records, in: db))
      claims = try batchStep { try pending.hold(in: db) }
    } else {
      // The claims go ahead of the handler's reads (on PostgreSQL one wait for both), so the
      // reads cover every record, a redelivered one's too (its reads go unused).
      let pending = try claimAll(records, now: now, in: db)
      memory = BatchMemory(prefetched: try prefetch(records, in: db))
      claims = try claimed(pending)
      // The lock comes after the batch's reads, unanswered, in front of its writes: another
      // instance's batch of the same users then waits only for this one's writes and commit,
      // not for its reads too (`SagaMessageHandler.lockShared`). Its failure is no record's: the
      // isolated run locks again (first) and goes record by record.
      do {
        try handler.lockShared(records.map(\.message), in: db)
      } catch {
        throw NeedsIsolation(failure: error, index: -1, unattributed: true)
      }
    }
    for (index, record) in records.enumerated() {
      let attempt = index == 0 ? firstAttempt : 1
      let error: SagaError
      let started = ContinuousClock.now
      let (outcome, span): (RunOutcome, (any Span)?)
      do {
        (outcome, span) = try run(
          record.message, attempt: attempt, now: now, in: db, afterCommit, isolated: isolated,
          claimed: claims?[index], knownFailure: known?.index == index ? known?.failure : nil, batch: memory)
      } catch var failure as NeedsIsolation {
        failure.index = failure.unattributed ? -1 : index
        throw failure
      }
      switch outcome {
      case .applied:
        result.applied += 1
        report(record.message, .applied, since: started, afterCommit, span: span)
        continue
      case .duplicate:
        result.duplicates += 1
        report(record.message, .duplicate, since: started, afterCommit, span: span)
        continue
      case .failed(let failure):
        error = failure
      }
      let retriable = error.isRetriable && policy.allowsAnotherAttempt(after: attempt)
      if retriable && policy.isInPlace(attempt + 1) {
        result.retryInPlace = (index, attempt, error)
        report(record.message, .retried, since: started, afterCommit, span: span, error: error)
        return result
      }
      var parkedUntil: Date?
      var observed = RecordResult.retried
      if retriable {
        parkedUntil = try within(span) {
          try park(record, attempts: attempt, error: error, now: now, in: db)
        }
      } else {
        let deadLetterClass: DeadLetterClass = error.isRetriable ? .exhausted : .permanent
        let outcome = try within(span) {
          try deadLetterOutcome(
            record, error: error, as: deadLetterClass, attempts: attempt, now: now, in: db, afterCommit: afterCommit,
            trace: span.flatMap { tracer?.trace(of: $0) })
        }
        switch outcome {
        case .written:
          result.deadLettered += 1
          observed = .deadLettered
        case .alreadyDeadLettered: observed = .duplicate
        // The hook could not run now: park the record, so its dead-lettering is tried again.
        case .deferred(let hookError):
          parkedUntil = try within(span) {
            try park(record, attempts: attempt, error: hookError, now: now, in: db)
          }
        }
      }
      report(record.message, observed, since: started, afterCommit, span: span, error: error)
      if let due = parkedUntil {
        result.parked += 1
        result.earliestDue = min(result.earliestDue ?? due, due)
      }
    }
    // Not isolated, the last record's deferred writes stay held: they go with the COMMIT, one
    // wait for both (Docs/storage-engines.md, "Round trips"). Should they fail there, the
    // whole transaction rolls back and the worker runs the batch isolated (`ConsumeWorker`).
    return result
  }

  /// What the handler reads for the batch's records at once (`SagaMessageHandler.prefetch`);
  /// its failure (or that of the claims sent ahead of it) is the batch's, not a record's.
  private func prefetch(_ records: ArraySlice<Record>, in db: any SQLConnection) throws -> (any Sendable)? {
    do {
      return try handler.prefetch(records.map(\.message), in: db)
    } catch {
      throw NeedsIsolation(failure: error, index: -1, unattributed: true)
    }
  }

  /// The inbox claims of a batch run without savepoints, in one statement rather than one
  /// per record, sent ahead of the batch's next statement (``claimed(_:)`` reads them).
  /// Should they fail, the isolated run claims record by record, where a failure is that
  /// record's own (no record is known to have failed: index -1).
  private func claimAll(_ records: ArraySlice<Record>, now: Date, in db: any SQLConnection) throws
    -> Inbox.PendingClaims
  {
    try batchStep { try Inbox.claimAllAhead(records.map(\.claim), group: group, at: now, in: db) }
  }

  private func claimed(_ pending: Inbox.PendingClaims) throws -> [Bool] {
    try batchStep { try pending.claimed() }
  }

  /// A step of the whole batch (its claims): its failure is no record's.
  private func batchStep<T>(_ step: () throws -> T) throws -> T {
    do {
      return try step()
    } catch {
      throw NeedsIsolation(failure: SagaError.storage(error), index: -1, unattributed: true)
    }
  }

  /// Runs the due `entries` once each: success or a duplicate removes the entry, a
  /// transient failure with attempts left reschedules it, anything else dead-letters it.
  func runDue(
    _ entries: [RetryEntry], now: Date, in db: any SQLConnection, afterCommit: CommitActions? = nil
  ) throws -> DueResult {
    var result = DueResult()
    for entry in entries {
      let attempt = entry.attempts + 1
      let error: SagaError
      let started = ContinuousClock.now
      let (outcome, span) = try run(entry.message, attempt: attempt, now: now, in: db, afterCommit)
      switch outcome {
      case .applied:
        try RetrySchedule.delete(id: entry.id, in: db)
        result.succeeded += 1
        report(entry.message, .applied, since: started, afterCommit, span: span)
        logger.info("retry succeeded", metadata: metadata(entry.message, attempts: attempt))
        continue
      case .duplicate:
        try RetrySchedule.delete(id: entry.id, in: db)
        result.duplicates += 1
        report(entry.message, .duplicate, since: started, afterCommit, span: span)
        continue
      case .failed(let failure):
        error = failure
      }
      if error.isRetriable && policy.allowsAnotherAttempt(after: attempt) {
        try within(span) {
          try reschedule(entry, attempts: attempt, error: error, now: now, in: db)
        }
        result.rescheduled += 1
        report(entry.message, .retried, since: started, afterCommit, span: span, error: error)
        continue
      }
      let record = Record(message: entry.message, timestampType: entry.timestampType)
      let deadLetterClass: DeadLetterClass = error.isRetriable ? .exhausted : .permanent
      let deadLettered = try within(span) {
        try deadLetterOutcome(
          record, error: error, as: deadLetterClass, attempts: attempt, now: now, in: db, afterCommit: afterCommit,
          trace: span.flatMap { tracer?.trace(of: $0) })
      }
      switch deadLettered {
      case .written:
        result.deadLettered += 1
        try RetrySchedule.delete(id: entry.id, in: db)
        report(entry.message, .deadLettered, since: started, afterCommit, span: span, error: error)
      case .alreadyDeadLettered:
        try RetrySchedule.delete(id: entry.id, in: db)
        report(entry.message, .duplicate, since: started, afterCommit, span: span, error: error)
      case .deferred(let hookError):
        try reschedule(entry, attempts: attempt, error: hookError, now: now, in: db)
        result.rescheduled += 1
        report(entry.message, .retried, since: started, afterCommit, span: span, error: hookError)
      }
    }
    return result
  }

  /// Counts how a run of `message` that began at `started` ended, once the transaction
  /// commits: a rolled-back batch runs again and must not count twice.
  private func report(
    _ message: InboundMessage, _ result: RecordResult, since started: ContinuousClock.Instant,
    _ afterCommit: CommitActions?, span: (any Span)? = nil, error: SagaError? = nil
  ) {
    if let span { finish(span, result, error: error, afterCommit) }
    guard let metrics else { return }
    let topic = message.topic
    let duration = started.duration(to: .now)
    CommitActions.schedule({ metrics.record(topic: topic, result: result, duration: duration) }, on: afterCommit)
  }

  /// Runs `body` with `span` as the current context (its log lines then carry its ids); with
  /// tracing off, just runs it: no task-local binding per record.
  private func within<T>(_ span: (any Span)?, _ body: () throws -> T) rethrows -> T {
    guard let span else { return try body() }
    return try InstrumentationContext.withValue(span.context, operation: body)
  }

  /// Records how the run ended on its span, which ends once the transaction commits: a
  /// rolled-back batch that runs again leaves no span of its first try.
  private func finish(_ span: any Span, _ result: RecordResult, error: SagaError?, _ afterCommit: CommitActions?) {
    span.attributes["sagad.outcome"] = result.rawValue
    if let error {
      span.recordError(error)
      span.attributes["error.type"] = error.code.description
      span.attributes["sagad.failure_class"] = error.isRetriable ? "transient" : "permanent"
      span.setStatus(SpanStatus(code: .error, message: "\(result.rawValue): \(error.code)"))
    }
    CommitActions.schedule({ span.end() }, on: afterCommit)
  }

  /// One run of `message`: inbox claim (unless `claimed` says how the batch's claim went) and
  /// handler in a savepoint, rolled back on failure.
  /// With tracing, under a consumer span (returned, for `report` to end) whose context the
  /// handler's log lines and emitted events carry, and a child span for the savepoint.
  private func run(
    _ message: InboundMessage, attempt: Int, now: Date, in db: any SQLConnection, _ afterCommit: CommitActions?,
    isolated: Bool = true, claimed: Bool? = nil, knownFailure: SagaError? = nil, batch: BatchMemory? = nil
  ) throws -> (RunOutcome, (any Span)?) {
    var outcome = RunOutcome.applied
    let group = self.group
    let span = tracer?.processSpan(message, group: group, service: service, attempt: attempt)
    let trace = span.flatMap { tracer?.trace(of: $0) }
    let transaction = span.map { span in
      let child = tracer!.startSpan("handle \(message.topic)", parent: span.context, kind: .internal)
      child.attributes["db.system.name"] = db.engine == .sqlite ? "sqlite" : "postgresql"
      return child
    }
    // A run without a savepoint that fails is undone with its batch: its spans are dropped
    // (never ended, so never exported) and the isolated rerun makes new ones.
    var undone = false
    defer { if !undone { transaction?.end() } }
    if let knownFailure {
      transaction?.recordError(knownFailure)
      return (.failed(knownFailure), span)
    }
    let body = {
      let claimed =
        try claimed
        ?? Inbox.claim(
          group: group, eventId: message.deduplicationKey, topic: message.topic, partition: message.partition,
          offset: message.offset, at: now, in: db)
      guard claimed else {
        outcome = .duplicate
        return
      }
      let context = MessageContext(
        envelope: message.envelope, service: service, now: now, afterCommit: afterCommit, trace: trace, batch: batch)
      try handler.handle(message, context: context, in: db)
      // Isolated, what the handler deferred fails here, as this record's failure. Without
      // savepoints it rides with the next record's first statement (one round trip fewer
      // per record on PostgreSQL); a failure of that statement is nobody's in particular.
      if isolated { try db.flushDeferred() }
    }
    try within(span) {
      guard isolated else {
        let inherited = db.hasDeferredWrites
        do {
          return try body()
        } catch {
          undone = true
          throw NeedsIsolation(
            failure: SagaError.storage(error), unattributed: inherited && db.lastFailureCarriedDeferredWrites)
        }
      }
      try db.savepoint {
        do {
          try body()
          return .commit
        } catch {
          outcome = .failed(SagaError.storage(error))
          transaction?.recordError(error)
          afterCommit?.savepointRolledBack()
          return .rollback
        }
      }
    }
    return (outcome, span)
  }

  /// Parks `record` after `attempts` runs; returns its due time, or nil when it was parked
  /// already (a redelivery: the first entry stands).
  private func park(_ record: Record, attempts: Int, error: SagaError, now: Date, in db: any SQLConnection) throws
    -> Date?
  {
    let delay = policy.delay(beforeAttempt: attempts + 1)
    let due = now.adding(delay)
    let parked = try RetrySchedule.park(
      record.message, group: group, timestampType: record.timestampType, attempts: attempts, error: error, at: now,
      dueAt: due, in: db)
    var metadata = metadata(record.message, attempts: attempts)
    metadata["code"] = "\(error.code)"
    metadata["error"] = "\(error.message)"
    metadata["retryIn"] = "\(delay)"
    if parked {
      logger.warning("transient failure, parked for retry", metadata: metadata)
    } else {
      // A redelivery (crash between the database and the offset commit): the first entry stands.
      logger.info("transient failure of a record already parked", metadata: metadata)
    }
    return parked ? due : nil
  }

  private func reschedule(_ entry: RetryEntry, attempts: Int, error: SagaError, now: Date, in db: any SQLConnection)
    throws
  {
    let delay = policy.delay(beforeAttempt: attempts + 1)
    try RetrySchedule.reschedule(id: entry.id, attempts: attempts, error: error, dueAt: now.adding(delay), in: db)
    var metadata = metadata(entry.message, attempts: attempts)
    metadata["code"] = "\(error.code)"
    metadata["error"] = "\(error.message)"
    metadata["retryIn"] = "\(delay)"
    logger.warning("transient failure, rescheduled", metadata: metadata)
  }

  /// Marks the record dead-lettered, runs the handler's hook and writes the dead letter to
  /// the outbox, all in one savepoint; does nothing for a record dead-lettered before.
  func deadLetterOutcome(
    _ record: Record, error: SagaError, as deadLetterClass: DeadLetterClass, attempts: Int, now: Date,
    in db: any SQLConnection, afterCommit: CommitActions? = nil, trace: TraceContext? = nil
  ) throws -> DeadLetterOutcome {
    let letter = DeadLetter(
      message: record.message, consumerGroup: group, timestampType: record.timestampType, error: error,
      failureClass: deadLetterClass, attempts: attempts)
    var hookError: SagaError?
    var outcome = DeadLetterOutcome.alreadyDeadLettered
    try db.savepoint {
      guard try DeadLetters.mark(letter, at: now, in: db) else { return .commit }
      do {
        let context = MessageContext(
          envelope: record.message.envelope, service: service, now: now, afterCommit: afterCommit, trace: trace)
        try handler.deadLettered(record.message, error: error, attempts: attempts, context: context, in: db)
      } catch {
        hookError = SagaError.storage(error)
        afterCommit?.savepointRolledBack()
        return .rollback
      }
      try DeadLetters.publish(letter, at: now, in: db)
      outcome = .written
      return .commit
    }
    var metadata = metadata(record.message, attempts: attempts)
    metadata["code"] = "\(error.code)"
    metadata["reason"] = "\(error.message)"
    metadata["class"] = "\(deadLetterClass)"
    if let hookError {
      metadata["hookError"] = "\(hookError)"
      guard !hookError.isRetriable else {
        logger.warning("dead-letter hook failed transiently, will try again", metadata: metadata)
        return .deferred(hookError)
      }
      // A bug in the hook must not keep the record from the DLT: write it without the hook.
      logger.error("dead-letter hook failed, dead-lettering without it", metadata: metadata)
      try db.savepoint {
        guard try DeadLetters.mark(letter, at: now, in: db) else { return .commit }
        try DeadLetters.publish(letter, at: now, in: db)
        outcome = .written
        return .commit
      }
    }
    switch outcome {
    case .written:
      // The dead letter is an outbox row (`reservation-completed.DLT`, …): the relay is woken for it.
      afterCommit?.noteOutboxWrite()
      logger.error("dead-lettered", metadata: metadata)
    case .alreadyDeadLettered: logger.info("redelivered record was dead-lettered already", metadata: metadata)
    case .deferred: break
    }
    return outcome
  }

  private func metadata(_ message: InboundMessage, attempts: Int) -> Logger.Metadata {
    [
      "record": "\(message.coordinates)", "attempts": "\(attempts)",
      "correlationId": "\(message.envelope.correlationId ?? "-")",
    ]
  }
}

extension RecordProcessor.Record {
  /// The record's inbox claim.
  var claim: Inbox.Claim {
    Inbox.Claim(
      eventId: message.deduplicationKey, topic: message.topic, partition: message.partition, offset: message.offset)
  }
}

extension Date {
  /// The instant `duration` after this one.
  func adding(_ duration: Duration) -> Date {
    let (seconds, attoseconds) = duration.components
    return addingTimeInterval(Double(seconds) + Double(attoseconds) / 1e18)
  }
}
