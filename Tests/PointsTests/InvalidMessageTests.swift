import Foundation
import GRDB
import Points
import SagaCore
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

@Suite("Invalid reservation-completed messages", .postgresServer, .timeLimit(.minutes(2)))
struct InvalidMessageTests {
  struct Case: Sendable, CustomTestStringConvertible {
    let name: String
    let body: String?
    let code: SagaError.Code
    let field: String?

    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(name: "non-JSON", body: "paymentId=100&userId=7", code: .invalidJSON, field: nil),
    Case(name: "empty body", body: "", code: .invalidJSON, field: nil),
    Case(name: "tombstone (no value)", body: nil, code: .invalidJSON, field: nil),
    Case(name: "a JSON array", body: "[1,2,3]", code: .invalidJSON, field: nil),
    Case(
      name: "missing paidAmount", body: #"{"paymentId":100,"userId":7,"reservationId":500}"#, code: .missingField,
      field: "paidAmount"),
    Case(
      name: "paidAmount as a string",
      body: #"{"paymentId":100,"userId":7,"reservationId":500,"paidAmount":"50000"}"#, code: .wrongType,
      field: "paidAmount"),
    Case(
      name: "negative paidAmount", body: #"{"paymentId":100,"userId":7,"reservationId":500,"paidAmount":-1}"#,
      code: .invalidValue, field: "paidAmount"),
    Case(
      name: "userId zero", body: #"{"paymentId":100,"userId":0,"reservationId":500,"paidAmount":1000}"#,
      code: .invalidValue, field: "userId"),
    Case(
      name: "eventVersion 2.0",
      body: #"{"eventVersion":"2.0","paymentId":100,"userId":7,"reservationId":500,"paidAmount":1000}"#,
      code: .unsupportedVersion, field: "eventVersion"),
  ]

  @Test("throws a permanent SagaError with the right code and writes nothing", arguments: SQLEngine.allCases, cases)
  func rejected(engine: SQLEngine, _ testCase: Case) async throws {
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      let before = try await points.snapshot()
      let recorder = OutcomeRecorder()
      let record = InboundMessage(
        topic: SagaTopic.reservationCompleted.rawValue, partition: 0, offset: 3, key: nil,
        value: testCase.body.map { Array($0.utf8) }, headers: paymentsEnvelope().headers)

      let error = await #expect(throws: SagaError.self) {
        try await points.handle(record, with: recorder.handler())
      }
      #expect(error?.code == testCase.code)
      #expect(error?.failureClass == .permanent)
      #expect(error?.isRetriable == false)
      if let field = testCase.field { #expect(error?.field == field) }
      #expect(try await points.snapshot() == before)
      #expect(recorder.counts.isEmpty)
    }
  }

  @Test("an invalid message does not poison the ones after it", arguments: SQLEngine.allCases)
  func laterMessagesStillProcessed(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      await #expect(throws: SagaError.self) { try await points.handle(rawMessage("{not json", offset: 0)) }
      try await points.handle(message(reservationCompleted(paidAmount: 50_000), offset: 1))
      #expect(try await points.service.balance(userId: userId) == 5_000)
    }
  }

  @Test(
    "a decoded event with a negative amount is refused before anything is read or written",
    arguments: SQLEngine.allCases)
  func negativeDecodedEvent(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      let event = reservationCompleted(paidAmount: -5)
      let error = await #expect(throws: SagaError.self) {
        try await points.database.write { db in
          try ReservationCompletedHandler().handle(
            event, context: MessageContext(envelope: .empty, service: .points), in: db)
        }
      }
      #expect(error?.code == .invalidValue && error?.failureClass == .permanent)
      #expect(try await points.count("outbox") == 0)
    }
  }

  @Test(
    "an SQL error inside the handler is a permanent SagaError (a bug, not the message's fault to retry)",
    arguments: SQLEngine.allCases)
  func sqlError(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      _ = try await points.database.write { db in try db.execute("DROP TABLE reward_failures") }
      let error = await #expect(throws: SagaError.self) {
        try await points.handle(message(reservationCompleted(paidAmount: 1_000)))
      }
      #expect(error?.code == .internalError && error?.failureClass == .permanent)
    }
  }

  @Test("a locked database inside the handler is a transient database-busy SagaError, nothing written")
  func busyIsTransient() async throws {
    try await withPointsOnDisk { points in
      try await points.service.enroll(userId: userId)
      // A second connection that fails at once instead of waiting out the lock.
      let impatient = try PointsDatabase(opening: StorageConfiguration(path: points.database.path, busyTimeout: .zero))
        .storage
      // Another process's writer, holding the lock across accesses (GRDB forbids that unless asked).
      var lockerConfiguration = Configuration()
      lockerConfiguration.allowsUnsafeTransactions = true
      let locker = try DatabaseQueue(path: points.database.path, configuration: lockerConfiguration)
      _ = try locker.inDatabase { db in try db.execute("BEGIN IMMEDIATE") }
      defer { _ = try? locker.inDatabase { db in try db.execute("ROLLBACK") } }

      let record = message(reservationCompleted(paidAmount: 1_000))
      // Autocommit mode, so the lock is wanted by the handler's first write, not by BEGIN.
      let error = await #expect(throws: SagaError.self) {
        try await impatient.sqlite!.writeWithoutTransaction { db in
          try ReservationCompletedHandler().handle(
            record, context: MessageContext(envelope: record.envelope, service: .points), in: db)
        }
      }
      #expect(error?.code == .databaseBusy)
      #expect(error?.failureClass == .transient && error?.isRetriable == true)
      #expect(try await points.count("point_ledger") == 0)
    }
  }
}
