import Foundation
import Points
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

/// Two Points instances take one user's records from different partitions: a batch locks its
/// users' accounts first, in user order, so that two batches wait for each other instead of
/// deadlocking (PostgreSQL would fail one of them after `deadlock_timeout`).
@Suite("Points: a batch locks its accounts in user order", .postgresServer, .timeLimit(.minutes(2)))
struct LockSharedTests {
  @Test("on PostgreSQL the batch's accounts are locked by its transaction before any record runs; SQLite locks nothing")
  func locks() async throws {
    for engine in SQLEngine.allCases {
      let locked = try await withPoints(on: engine) { points in
        for user: Int64 in 1...4 { try await points.service.enroll(userId: user) }
        let messages =
          [Int64(3), 1, 3].enumerated().map { index, user in
            message(reservationCompleted(paidAmount: 1_000, userId: user, paymentId: Int64(100 + index)))
          } + [rawMessage("not json")]
        return try await points.database.write { db -> [Int64] in
          try ReservationCompletedHandler().lockShared(messages, in: db)
          guard db.engine == .postgres else { return [] }
          // A row this transaction locked carries its id as xmax.
          return try db.query(
            "SELECT user_id FROM point_accounts WHERE xmax = pg_current_xact_id()::xid ORDER BY user_id"
          ).map { row -> Int64 in try row.decode(0) }
        }
      }
      #expect(locked == (engine == .postgres ? [1, 3] : []), "\(engine)")
    }
  }
}
