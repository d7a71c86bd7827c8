import Foundation
import Points
import SagaCore
import SagaStorage
import SagaTestSupport
import Synchronization
import Testing

@testable import SagaRuntime

/// Rewards inside one batch run without savepoints (one transaction, the batch's memory): on
/// PostgreSQL a record's decision carries the writes held for earlier records only when none
/// of them was its user's, so a user's second record decides on the first one's outcome.
@Suite("Points: rewards within one batch", .postgresServer, .timeLimit(.minutes(2)))
struct RewardBatchTests {
  @Test(
    "a second copy of a reward in the batch is a duplicate; a user's second reward sees the first's balance",
    arguments: SQLEngine.allCases, [false, true])
  func laterRecordsSeeEarlier(engine: SQLEngine, prefetching: Bool) async throws {
    try await withPoints(on: engine) { points in
      for user: Int64 in [7, 8, 9] { try await points.service.enroll(userId: user) }
      // Room for one reward of 100 only.
      try await points.database.write { db in
        _ = try db.execute("UPDATE point_accounts SET balance = ? WHERE user_id = 8", [Int64.max - 150])
      }
      let reward = reservationCompleted(paidAmount: 1_000, userId: 7, paymentId: 100)
      let batch = [
        message(reward), message(reward, offset: 1),
        message(reservationCompleted(paidAmount: 1_000, userId: 8, paymentId: 200), offset: 2),
        message(reservationCompleted(paidAmount: 1_000, userId: 8, paymentId: 201), offset: 3),
        message(reservationCompleted(paidAmount: 1_000, userId: 9, paymentId: 300), offset: 4),
      ]
      let handler = ReservationCompletedHandler()
      let outcomes = try await points.database.write { db in
        // Prefetched, the users' first records decide from reads made before any record ran.
        let memory = BatchMemory(prefetched: prefetching ? try handler.prefetch(batch, in: db) : nil)
        return try batch.map { message in
          try handler.process(
            message,
            context: MessageContext(envelope: message.envelope, service: .points, now: referenceDate, batch: memory),
            in: db)
        }
      }
      #expect(outcomes.map(\.result) == ["rewarded", "duplicate", "rewarded", "failed", "rewarded"])
      #expect(try await points.service.balance(userId: 7) == 100)
      #expect(try await points.service.balance(userId: 8) == Int64.max - 50)
      #expect(try await points.count("point_ledger") == 3)
      #expect(try await points.count("reward_failures") == 1)
      let failure = try #require(try await points.service.rewardFailure(userId: 8, paymentId: 201))
      #expect(failure.reasonCode == .pointBalanceOverflow, "decided on the balance after payment 200's reward")
    }
  }

  @Test("on PostgreSQL a batch's decisions are one statement: its waits do not grow with it")
  func prefetchedDecisions() async throws {
    try await withPoints(on: .postgres) { points in
      for user in Int64(1)...20 { try await points.service.enroll(userId: user) }
      let handler = ReservationCompletedHandler()
      func batch(_ first: Int64) -> [InboundMessage] {
        (Int64(1)...20).map { user in
          message(reservationCompleted(paidAmount: 1_000, userId: user, paymentId: first + user), offset: first + user)
        }
      }
      var waits: [Int] = []
      for first in [Int64(100), 200] {
        let batch = batch(first)
        let (results, count) = try await points.database.write { db in
          let connection = try #require(db as? PostgresSQLConnection)
          let start = connection.roundTrips
          let memory = BatchMemory(prefetched: try handler.prefetch(batch, in: db))
          let results = try batch.map { message in
            try handler.process(
              message,
              context: MessageContext(envelope: message.envelope, service: .points, now: referenceDate, batch: memory),
              in: db
            ).result
          }
          return (results, connection.roundTrips - start)
        }
        #expect(results == Array(repeating: "rewarded", count: 20))
        waits.append(count)
      }
      // The second batch finds its statements prepared: one wait, for the decisions' statement
      // (the BEGIN goes with it); the records' writes follow each other unanswered.
      #expect(waits.last == 1, "one wait per record would be 20: \(waits)")
      #expect(try await points.count("point_ledger") == 40)
      #expect(try await points.service.balance(userId: 20) == 200)
    }
  }

  @Test(
    "on PostgreSQL a batch's claims go ahead of its reads, its writes with its COMMIT: two waits, whatever its size"
  )
  func claimsAheadOfReads() async throws {
    try await withPoints(on: .postgres) { points in
      for user in Int64(1)...20 { try await points.service.enroll(userId: user) }
      let processor = RecordProcessor(
        handler: ReservationCompletedHandler(), service: .points, policy: RetryPolicy(), logger: quietLogger)
      var waits: [Int] = []
      for first in [Int64(100), 200] {
        let records = (Int64(1)...20).map { user in
          RecordProcessor.Record(
            message: message(
              reservationCompleted(paidAmount: 1_000, userId: user, paymentId: first + user), offset: first + user),
            timestampType: nil)
        }
        let (result, connection, start) = try await points.database.write { db in
          let connection = try #require(db as? PostgresSQLConnection)
          let start = connection.roundTrips
          let result = try processor.apply(records[...], firstAttempt: 1, now: referenceDate, in: db, isolated: false)
          return (result, connection, start)
        }
        #expect(result.applied == 20)
        // Read after the commit: its wait counts.
        waits.append(connection.roundTrips - start)
      }
      // BEGIN, the claims and the decisions' read: one wait; the accounts' locks, the
      // records' writes and the COMMIT, sent at the end of the batch: the other.
      #expect(waits.last == 2, "the claims or the writes awaited on their own would make it 3: \(waits)")
      #expect(try await points.count("point_ledger") == 40)
    }
  }

  @Test("on PostgreSQL a batch written as one statement sends three statements: no BEGIN, lock or COMMIT")
  func batchInOneStatement() async throws {
    try await withPoints(on: .postgres) { points in
      for user in Int64(1)...20 { try await points.service.enroll(userId: user) }
      let processor = RecordProcessor(
        handler: ReservationCompletedHandler(), service: .points, policy: RetryPolicy(), logger: quietLogger)
      var counts: [[Int]] = []
      for first in [Int64(100), 200] {
        let records = (Int64(1)...20).map { user in
          RecordProcessor.Record(
            message: message(
              reservationCompleted(paidAmount: 1_000, userId: user, paymentId: first + user), offset: first + user),
            timestampType: nil)
        }
        let messages = records.map(\.message)
        #expect(ReservationCompletedHandler().writesInOneStatement(messages))
        #expect(
          !ReservationCompletedHandler().writesInOneStatement(messages + [messages[0]]),
          "a user's second reward reads after the first's writes")
        let (result, connection, start) = try await points.database.writeInOneStatement { db in
          let connection = try #require(db as? PostgresSQLConnection)
          let start = [connection.roundTrips, connection.statementsSent]
          let result = try processor.apply(
            records[...], firstAttempt: 1, now: referenceDate, in: db, isolated: false, inOneStatement: true)
          return (result, connection, start)
        }
        #expect(result.applied == 20)
        counts.append([connection.roundTrips - start[0], connection.statementsSent - start[1]])
      }
      // The inbox's read and the decisions' read, one wait; the claims and the records' writes,
      // the other. A transaction sends six: BEGIN, the claims, the reads, the lock, the writes, COMMIT.
      #expect(counts.last == [2, 3], "waits, statements: \(counts)")
      #expect(try await points.count("point_ledger") == 40)
      #expect(try await points.count("inbox") == 40)
      #expect(try await points.service.balance(userId: 20) == 200)
    }
  }

  /// Written as one statement, a batch takes no lock: another instance may reward one of its
  /// payments between its read and its write. The ledger's key then refuses the statement,
  /// nothing of the batch is written, and the batch runs again as a transaction.
  @Test("on PostgreSQL a batch written as one statement that another instance overtakes writes nothing")
  func oneStatementOvertaken() async throws {
    try await withPoints(on: .postgres) { points in
      let database = points.database
      let (processor, records) = try await Self.overtakenBatch(points)
      let refusal = await #expect(throws: StorageError.self) {
        try await database.writeInOneStatement { db in
          try processor.apply(
            records, firstAttempt: 1, now: referenceDate, in: db, isolated: false, inOneStatement: true)
        }
      }
      #expect(refusal?.sqlState == "23505", "\(String(describing: refusal))")
      #expect(try await points.count("point_ledger") == 1, "only the other instance's reward")
      #expect(try await points.count("inbox") == 1, "no claim of the batch")
      #expect(try await points.service.balance(userId: 2) == 0)
      // As a transaction (the worker's next step), the batch reads the other instance's reward.
      let result = try await database.write { db in
        try processor.apply(records[...], firstAttempt: 1, now: referenceDate, in: db, isolated: false)
      }
      #expect(result.applied == 2)
      #expect(try await points.service.balance(userId: 1) == 100, "credited once, by the other instance")
      #expect(try await points.service.balance(userId: 2) == 100)
      #expect(try await points.service.verify().isEmpty)
    }
  }

  /// The batch reads before it locks its accounts (Docs/storage-engines.md, "A batch locks after
  /// its reads"): another instance may reward one of its payments in between. Then the batch's
  /// own reward fails on the ledger's unique key, and the isolated run, which locks first and
  /// reads under the lock, answers the payment as rewarded already: one credit.
  @Test("on PostgreSQL a reward another instance commits between a batch's read and its lock is credited once")
  func rewardedBetweenReadAndLock() async throws {
    try await withPoints(on: .postgres) { points in
      let database = points.database
      let (processor, records) = try await Self.overtakenBatch(points)
      // The last record's writes go with the COMMIT, which the unique key refuses: the worker
      // makes that failure the batch's (`NeedsIsolation(commitOf:)`), not a record's.
      let refusal = await #expect(throws: StorageError.self) {
        try await database.write { db in
          try processor.apply(records[...], firstAttempt: 1, now: referenceDate, in: db, isolated: false)
        }
      }
      let failure = try #require(refusal.flatMap(NeedsIsolation.init(commitOf:)))
      #expect(failure.unattributed && refusal?.kind == .constraint, "\(String(describing: refusal))")
      let result = try await database.write { db in
        try processor.apply(records[...], firstAttempt: 1, now: referenceDate, in: db, isolated: true, known: failure)
      }
      #expect(result.applied == 2)
      #expect(try await points.count("point_ledger") == 2)
      #expect(try await points.service.balance(userId: 1) == 100, "credited once, by the other instance")
      #expect(try await points.service.balance(userId: 2) == 100)
      #expect(try await points.service.verify().isEmpty)
    }
  }

  /// Users 1 and 2 enrolled, and a batch of their payments 101 and 102 whose processor lets
  /// another instance reward payment 101 (its copy of the event, redelivered to it under another
  /// id) right after the batch's read: on another connection, committed before the batch goes on.
  private static func overtakenBatch(_ points: PointsFixture) async throws
    -> (RecordProcessor, ArraySlice<RecordProcessor.Record>)
  {
    for user: Int64 in 1...2 { try await points.service.enroll(userId: user) }
    let database = points.database
    let other = RecordProcessor(
      handler: ReservationCompletedHandler(), service: .points, policy: RetryPolicy(), logger: quietLogger)
    let competing = RecordProcessor.Record(
      message: message(reservationCompleted(paidAmount: 1_000, userId: 1, paymentId: 101), offset: 9),
      timestampType: nil)
    let handler = InterleavingHandler {
      let committed = DispatchSemaphore(value: 0)
      let outcome = Mutex<Result<Int, any Error>?>(nil)
      Task {
        do {
          let result = try await database.write { db in
            try other.apply([competing], firstAttempt: 1, now: referenceDate, in: db, isolated: true)
          }
          outcome.withLock { $0 = .success(result.applied) }
        } catch {
          outcome.withLock { $0 = .failure(error) }
        }
        committed.signal()
      }
      committed.wait()
      let applied = outcome.withLock { $0.flatMap { try? $0.get() } }
      #expect(applied == 1, "\(String(describing: outcome.withLock { $0 }))")
    }
    let processor = RecordProcessor(handler: handler, service: .points, policy: RetryPolicy(), logger: quietLogger)
    let records = [Int64(1), 2].map { user in
      RecordProcessor.Record(
        message: message(reservationCompleted(paidAmount: 1_000, userId: user, paymentId: 100 + user), offset: user),
        timestampType: nil)
    }
    return (processor, records[...])
  }
}

/// Points' handler, with `between` run once right after its batch read (`prefetch`), before the
/// loop locks the batch's accounts.
private final class InterleavingHandler: SagaMessageHandler {
  let inner = ReservationCompletedHandler()
  let between: Mutex<(@Sendable () -> Void)?>
  var consumerGroup: SagaConsumerGroup { inner.consumerGroup }

  init(between: @escaping @Sendable () -> Void) { self.between = Mutex(between) }

  func handle(_ message: InboundMessage, context: MessageContext, in db: any SQLConnection) throws(SagaError) {
    try inner.handle(message, context: context, in: db)
  }

  func lockShared(_ messages: [InboundMessage], in db: any SQLConnection) throws(SagaError) {
    try inner.lockShared(messages, in: db)
  }

  func prefetch(_ messages: [InboundMessage], in db: any SQLConnection) throws(SagaError) -> (any Sendable)? {
    let read = try inner.prefetch(messages, in: db)
    if let between = between.withLock({ $0.take() }) { between() }
    return read
  }
}
