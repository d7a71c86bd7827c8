import Foundation
import Payments
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

/// A compensation batch locks the wallets its refunds will credit before any record runs, in
/// user order, as `pay` groups lock theirs: on two instances they take turns, never deadlock.
@Suite("Payments: a compensation batch locks its wallets in user order", .postgresServer, .timeLimit(.minutes(2)))
struct CompensationLockTests {
  @Test("on PostgreSQL the batch's wallets are locked by its transaction; SQLite locks nothing")
  func locks() async throws {
    for engine in SQLEngine.allCases {
      try await PaymentsHarness.run(on: engine) { harness in
        for user: Int64 in 1...4 { try await harness.service.addUser(id: user, initialBalance: 1_000) }
        let messages =
          [Int64(3), 1, 3].enumerated().map { index, user in
            inbound(
              CompensatePayment(paymentId: Int64(100 + index), userId: user, refundAmount: 10, reason: nil),
              offset: Int64(index))
          }
        let locked = try await harness.database.write { db -> [Int64] in
          try PaymentCompensationHandler().lockShared(messages, in: db)
          guard db.engine == .postgres else { return [] }
          // A row this transaction locked carries its id as xmax.
          return try db.query("SELECT user_id FROM wallets WHERE xmax = pg_current_xact_id()::xid ORDER BY user_id")
            .map { row -> Int64 in try row.decode(0) }
        }
        #expect(locked == (engine == .postgres ? [1, 3] : []), "\(engine)")
      }
    }
  }
}
