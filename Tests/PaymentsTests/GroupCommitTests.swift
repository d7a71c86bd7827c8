import Foundation
import GRDB
import Payments
import SagaCore
import SagaStorage
import Testing

/// `pay`'s group commit: many requests, one transaction, no savepoint per request. Groups are
/// made deterministic by holding the database's writer (`GroupHarness.payInOneGroup`).
@Suite("Payments: pay group commit", .timeLimit(.minutes(2)))
struct GroupCommitTests {
  @Test("a refused request in the middle of a group fails alone; the others commit, durably")
  func refusalInTheMiddle() async throws {
    try await GroupHarness.run { harness in
      try await harness.service.addUser(id: 1, initialBalance: 100_000)
      try await harness.service.addUser(id: 2, initialBalance: 10_000)
      try await harness.service.addUser(id: 3, initialBalance: 100_000)
      let before = harness.service.payStatistics
      let results = try await harness.payInOneGroup([
        PayRequest(userId: 1, scheduleId: 1, seat: "A-1", amount: 30_000),
        PayRequest(userId: 2, scheduleId: 1, seat: "A-2", amount: 50_000),  // more than the wallet holds
        PayRequest(userId: 3, scheduleId: 1, seat: "A-3", amount: 40_000),
        PayRequest(userId: 1, scheduleId: 2, amount: 20_000),
      ])
      #expect((try? results[0].get())?.duplicate == false)
      #expect(results[1].failure?.code == .insufficientBalance)
      #expect((try? results[2].get())?.duplicate == false)
      #expect((try? results[3].get())?.duplicate == false)
      // The plug's group, then all four in one transaction, which created three payments.
      let after = harness.service.payStatistics
      #expect(after.groups - before.groups == 2 && after.largestGroup == 4 && after.splitGroups == 0)
      #expect(harness.commits.all.suffix(2) == [1, 3])

      // Durable: a fresh connection to the file sees exactly the three payments (and the plug).
      try await harness.database.close()
      let reopened = try PaymentsDatabase(opening: StorageConfiguration(path: harness.database.path))
      let service = PaymentsService(database: reopened)
      #expect(try await service.balance(userId: 1) == 50_000)
      #expect(try await service.balance(userId: 2) == 10_000)
      #expect(try await service.balance(userId: 3) == 60_000)
      for case .success(let paid) in results {
        #expect(try await service.payment(id: paid.paymentId)?.status == .paid)
      }
      let counts = try await reopened.storage.read { db in
        try ["payments", "reservations", "outbox", "saga_steps"].map {
          try db.value(Int.self, "SELECT COUNT(*) FROM \($0)") ?? -1
        }
      }
      #expect(counts == [4, 4, 4, 4])
      #expect(try await service.verify() == [])
    }
  }

  @Test("identical requests in one group give one payment and one duplicate; a conflicting one is refused")
  func duplicatesInOneGroup() async throws {
    try await GroupHarness.run { harness in
      try await harness.service.addUser(id: 1, initialBalance: 100_000)
      let request = PayRequest(userId: 1, scheduleId: 5, seat: "B-2", amount: 20_000)
      let results = try await harness.payInOneGroup([
        request, request, PayRequest(userId: 1, scheduleId: 5, seat: "B-2", amount: 25_000),
      ])
      let first = try results[0].get()
      let second = try results[1].get()
      #expect(!first.duplicate && second.duplicate)
      #expect(second.paymentId == first.paymentId && second.correlationId == first.correlationId)
      #expect(results[2].failure?.code == .idempotencyConflict)
      #expect(harness.service.payStatistics.largestGroup == 3)
      #expect(try await harness.service.balance(userId: 1) == 80_000)
      #expect(try await harness.count("SELECT COUNT(*) FROM payments WHERE user_id = 1") == 1)
      #expect(try await harness.count("SELECT COUNT(*) FROM outbox") == 2)  // this payment and the plug's
      #expect(try await harness.service.verify() == [])
    }
  }

  @Test("callers are answered only once their group's transaction has committed")
  func answeredAfterCommit() async throws {
    try await GroupHarness.run { harness in
      for user in 1...3 { try await harness.service.addUser(id: Int64(user), initialBalance: 100_000) }
      let gate = CommitGate()
      try await harness.database.sqlite!.writeWithoutTransaction { db in db.add(transactionObserver: gate) }
      gate.arm()
      let answered = Recorder<Int64>()
      let payers = (1...3).map { user in
        Task {
          let result = try await harness.service.pay(PayRequest(userId: Int64(user), scheduleId: 1, amount: 1_000))
          answered.record(result.paymentId)
          // Visible to a new read transaction the moment the caller hears of it.
          #expect(try await harness.service.payment(id: result.paymentId) != nil)
          return result
        }
      }
      // The first group has done all its work and waits to commit: nobody has an answer,
      // and readers see nothing yet.
      try await poll { gate.isWaiting }
      try await Task.sleep(for: .milliseconds(100))
      #expect(answered.all.isEmpty)
      #expect(try await harness.count("SELECT COUNT(*) FROM payments") == 0)
      gate.release()
      for payer in payers { #expect(try await payer.value.status == .paid) }
      #expect(answered.all.count == 3)
      // The hook ran once per committed group, before its callers resumed.
      #expect(harness.commits.all.reduce(0, +) == 3)
    }
  }

  /// How a test breaks user 7's pay inside the group's transaction, on the writer only.
  enum Breaker: String, CaseIterable, CustomTestStringConvertible {
    /// An SQL error (not a business refusal) when the payment row is inserted.
    case sqlErrorOnPayment
    /// The ledger row refused after the reservation and the payment were written, as a unique
    /// key lost to another instance would be on PostgreSQL.
    case constraintAfterWrites

    var testDescription: String { rawValue }

    func install(in db: Database) throws {
      switch self {
      case .sqlErrorOnPayment:
        db.add(
          function: DatabaseFunction("test_fail_for_user_7", argumentCount: 1, pure: false) { values in
            if Int64.fromDatabaseValue(values[0]) == 7 { throw InjectedFailure() }
            return nil
          })
        try db.execute(
          """
          CREATE TEMP TRIGGER fail_user_7 BEFORE INSERT ON payments
          BEGIN SELECT test_fail_for_user_7(NEW.user_id); END
          """)
      case .constraintAfterWrites:
        try db.execute(
          """
          CREATE TEMP TRIGGER refuse_ledger_7 BEFORE INSERT ON wallet_ledger WHEN NEW.user_id = 7
          BEGIN SELECT RAISE(ABORT, 'injected: ledger row refused'); END
          """)
      }
    }
  }

  @Test(
    "a request that breaks the transaction is isolated and leaves nothing behind; the rest of its group commits",
    arguments: Breaker.allCases)
  func brokenRequestIsolated(breaker: Breaker) async throws {
    try await GroupHarness.run { harness in
      for user in [1, 7, 3] { try await harness.service.addUser(id: Int64(user), initialBalance: 100_000) }
      try await harness.database.sqlite!.writeWithoutTransaction { db in try breaker.install(in: db) }
      let results = try await harness.payInOneGroup([
        PayRequest(userId: 1, scheduleId: 1, amount: 1_000), PayRequest(userId: 7, scheduleId: 1, amount: 1_000),
        PayRequest(userId: 3, scheduleId: 1, amount: 1_000),
      ])
      #expect((try? results[0].get())?.status == .paid)
      #expect(results[1].failure?.code == .storage)
      #expect((try? results[2].get())?.status == .paid)
      #expect(harness.service.payStatistics.splitGroups == 1)
      #expect(try await harness.count("SELECT COUNT(*) FROM payments WHERE user_id = 7") == 0)
      #expect(try await harness.count("SELECT COUNT(*) FROM reservations WHERE user_id = 7") == 0)
      #expect(try await harness.count("SELECT COUNT(*) FROM payments WHERE user_id IN (1, 3)") == 2)
      #expect(try await harness.service.balance(userId: 7) == 100_000)
      #expect(try await harness.service.verify() == [])
    }
  }
}
