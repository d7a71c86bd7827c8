import Foundation
import GRDB
import Points
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

@Suite("PointsService", .postgresServer, .timeLimit(.minutes(2)))
struct PointsServiceTests {
  @Test("enrolment is idempotent and keeps the balance and the first enrolment time", arguments: SQLEngine.allCases)
  func enrolIdempotent(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      #expect(try await points.service.isEnrolled(userId: userId) == false)
      #expect(try await points.service.balance(userId: userId) == nil)
      #expect(try await points.service.enroll(userId: userId, at: referenceDate) == true)
      try await points.handle(message(reservationCompleted(paidAmount: 50_000)))
      #expect(try await points.service.enroll(userId: userId, at: referenceDate.addingTimeInterval(60)) == false)

      #expect(try await points.service.isEnrolled(userId: userId))
      #expect(try await points.service.balance(userId: userId) == 5_000)
      let enrolledAt = try await points.database.read { db in
        try db.value(Int64.self, "SELECT enrolled_at FROM point_accounts WHERE user_id = ?", [userId])
      }
      #expect(enrolledAt == RFC3339Timestamp.milliseconds(of: referenceDate))
      #expect(try await points.count("point_accounts") == 1)
    }
  }

  @Test("enrolment refuses ids no event can carry", arguments: SQLEngine.allCases, [Int64(0), -1, Int64.min])
  func enrolInvalidId(engine: SQLEngine, id: Int64) async throws {
    try await withPoints(on: engine) { points async throws in
      let error = await #expect(throws: SagaError.self) { try await points.service.enroll(userId: id) }
      #expect(error?.code == .invalidValue && error?.field == "userId")
      #expect(try await points.count("point_accounts") == 0)
    }
  }

  @Test("lookups answer nil for what never happened", arguments: SQLEngine.allCases)
  func lookupsOfNothing(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points async throws in
      #expect(try await points.service.reward(userId: userId, paymentId: paymentId) == nil)
      #expect(try await points.service.rewardFailure(userId: userId, paymentId: paymentId) == nil)
      #expect(try await points.service.verify() == [])
    }
  }

  @Test(
    "the schema refuses a negative balance and a second ledger row for one (user, payment)",
    arguments: SQLEngine.allCases)
  func schemaConstraints(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      try await points.handle(message(reservationCompleted(paidAmount: 50_000)))
      await #expect(throws: (any Error).self) {
        try await points.database.write { db in
          try db.execute("UPDATE point_accounts SET balance = -1 WHERE user_id = ?", [userId])
        }
      }
      await #expect(throws: (any Error).self) {
        try await points.database.write { db in
          try db.execute(
            """
            INSERT INTO point_ledger (user_id, payment_id, reservation_id, paid_amount, amount, created_at)
            VALUES (?, ?, 1, 0, 0, 0)
            """, [userId, paymentId])
        }
      }
      #expect(try await points.service.balance(userId: userId) == 5_000)
    }
  }

  @Test(
    "verify is clean after real traffic and names the user whose balance was edited by hand",
    arguments: SQLEngine.allCases)
  func verifyDetectsCorruption(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      try await points.service.enroll(userId: 8)
      try await points.handle(message(reservationCompleted(paidAmount: 50_000, paymentId: 1)))
      try await points.handle(message(reservationCompleted(paidAmount: 12_345, paymentId: 2)))
      try await points.handle(message(reservationCompleted(paidAmount: 1_000, userId: 9, paymentId: 3)))
      #expect(try await points.service.verify() == [])

      try await points.database.write { db in
        try db.execute("UPDATE point_accounts SET balance = balance + 1 WHERE user_id = ?", [userId])
        try db.execute("UPDATE point_accounts SET balance = 300 WHERE user_id = 8")
      }
      let problems = try await points.service.verify()
      #expect(problems.count == 2)
      #expect(problems.first?.contains("user 7: balance 6201") == true)
      #expect(problems.last?.contains("user 8: balance 300") == true)
    }
  }

  @Test("verify names a payment that is both rewarded and failed", arguments: SQLEngine.allCases)
  func verifyDetectsContradiction(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      try await points.handle(message(reservationCompleted(paidAmount: 50_000)))
      try await points.service.enroll(userId: userId)
      // Only a hand edit can get here: the handler checks both tables before deciding.
      _ = try await points.database.write { db in
        try db.execute(
          """
          INSERT INTO point_ledger (user_id, payment_id, reservation_id, paid_amount, amount, created_at)
          VALUES (?, ?, ?, 50000, 0, 0)
          """, [userId, paymentId, reservationId])
      }
      let problems = try await points.service.verify()
      #expect(problems.count == 1)
      #expect(problems.first?.contains("payment 100: both rewarded") == true)
    }
  }

  @Test("a reopened database keeps accounts, ledger and failures", arguments: SQLEngine.allCases)
  func survivesReopen(engine: SQLEngine) async throws {
    let directory = try TemporaryDirectory()
    defer { withExtendedLifetime(directory) {} }
    // A file on SQLite; on PostgreSQL a database of the suite's server, opened twice.
    let open: () async throws -> PointsService
    switch engine {
    case .sqlite:
      let configuration = StorageConfiguration(path: directory.appending("points.sqlite").path)
      open = { try PointsService(opening: configuration) }
    case .postgres:
      let configuration = try await PostgresServer.suiteServer().freshDatabase()
      open = { PointsService(database: try await PointsDatabase.open(postgres: configuration, logger: quietLogger)) }
    }
    do {
      let service = try await open()
      let points = PointsFixture(database: service.database.storage, service: service)
      try await points.database.closing {
        try await service.enroll(userId: userId)
        try await points.handle(message(reservationCompleted(paidAmount: 50_000)))
        try await points.handle(message(reservationCompleted(paidAmount: 50_000, userId: 8)))
      }
    }
    let reopened = try await open()
    try await reopened.database.storage.closing { () async throws in
      #expect(try await reopened.balance(userId: userId) == 5_000)
      #expect(try await reopened.reward(userId: userId, paymentId: paymentId)?.amount == 5_000)
      #expect(try await reopened.rewardFailure(userId: 8, paymentId: paymentId)?.reasonCode == .userNotEnrolled)
      #expect(try await reopened.verify() == [])
    }
  }
}
