import Foundation
import Payments
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

@Suite("Payments: wallet and pay", .postgresServer, .timeLimit(.minutes(2)))
struct PayTests {
  @Test(
    "pay deducts, reserves, records PAID and queues exactly one ReservationCompleted with envelope headers",
    arguments: SQLEngine.allCases)
  func happyPath(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let result = try await harness.paidSaga()
      #expect(result.status == .paid && !result.duplicate && result.amount == 50_000)
      #expect(try await harness.service.balance(userId: 1) == 50_000)

      let payment = try #require(try await harness.service.payment(id: result.paymentId))
      #expect(payment.userId == 1 && payment.scheduleId == 10 && payment.seat == "A-1")
      #expect(payment.reservationId == result.reservationId && payment.amount == 50_000)
      #expect(payment.status == .paid && payment.reservationStatus == .reserved)
      #expect(payment.rewardAmount == nil && payment.refundedAmount == nil)

      let rows = try await harness.outbox(.reservationCompleted)
      try #require(rows.count == 1)
      let row = rows[0]
      #expect(row.key == String(result.paymentId))
      let event = try EventCodec.decode(ReservationCompleted.self, from: row.payload)
      #expect(
        event
          == ReservationCompleted(
            paymentId: result.paymentId, userId: 1, reservationId: result.reservationId, paidAmount: 50_000))
      let headers = envelope(of: row)
      #expect(headers.eventId != nil)
      #expect(headers.eventType == .reservationCompleted)
      #expect(headers.eventVersion == .current)
      #expect(headers.producer == "sagad/payments")
      #expect(headers.occurredAtMilliseconds != nil)
      let trace = try #require(headers.trace)
      #expect(headers.correlationId == trace.traceId)
      #expect(result.correlationId == trace.traceId && payment.traceId == trace.traceId)
      #expect(try await harness.count("SELECT COUNT(*) FROM outbox") == 1)

      let steps = try await harness.service.steps(paymentId: result.paymentId)
      #expect(steps.map(\.step) == [.paymentAccepted])
      #expect(steps.first?.eventId == headers.eventId?.uuidString.lowercased())
      #expect(try await harness.service.verify() == [])
    }
  }

  @Test(
    "the same request again returns the original payment, charges once and announces once",
    arguments: SQLEngine.allCases)
  func idempotentPay(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let first = try await harness.paidSaga()
      let again = try await harness.service.pay(PayRequest(userId: 1, scheduleId: 10, seat: "A-1", amount: 50_000))
      #expect(again.duplicate && again.paymentId == first.paymentId && again.reservationId == first.reservationId)
      #expect(again.correlationId == first.correlationId && again.status == .paid)
      #expect(try await harness.service.balance(userId: 1) == 50_000)
      #expect(try await harness.outbox(.reservationCompleted).count == 1)
      #expect(try await harness.count("SELECT COUNT(*) FROM payments") == 1)
      #expect(try await harness.count("SELECT COUNT(*) FROM reservations") == 1)
      #expect(try await harness.count("SELECT COUNT(*) FROM wallet_ledger WHERE kind = 'payment'") == 1)

      // Another schedule is another payment.
      let other = try await harness.service.pay(PayRequest(userId: 1, scheduleId: 11, amount: 20_000))
      #expect(!other.duplicate && other.paymentId != first.paymentId)
      #expect(try await harness.service.balance(userId: 1) == 30_000)
      #expect(try await harness.service.verify() == [])
    }
  }

  @Test("the same key with another amount or seat is a conflict and changes nothing", arguments: SQLEngine.allCases)
  func idempotencyConflict(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      _ = try await harness.paidSaga()
      for request in [
        PayRequest(userId: 1, scheduleId: 10, seat: "A-1", amount: 40_000),
        PayRequest(userId: 1, scheduleId: 10, seat: "B-7", amount: 50_000),
      ] {
        let error = await #expect(throws: PaymentsError.self) { try await harness.service.pay(request) }
        #expect(error?.code == .idempotencyConflict && error?.isRetriable == false)
      }
      #expect(try await harness.service.balance(userId: 1) == 50_000)
      #expect(try await harness.outbox(.reservationCompleted).count == 1)
      #expect(try await harness.count("SELECT COUNT(*) FROM payments") == 1)
    }
  }

  @Test("an insufficient balance leaves no reservation, payment, ledger row or event", arguments: SQLEngine.allCases)
  func insufficientBalance(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      try await harness.service.addUser(id: 1, initialBalance: 10_000)
      let error = await #expect(throws: PaymentsError.self) {
        try await harness.service.pay(PayRequest(userId: 1, scheduleId: 10, amount: 10_001))
      }
      #expect(error?.code == .insufficientBalance)
      #expect(try await harness.service.balance(userId: 1) == 10_000)
      for table in ["reservations", "payments", "outbox", "saga_steps"] {
        #expect(try await harness.count("SELECT COUNT(*) FROM \(table)") == 0, "\(table)")
      }
      #expect(try await harness.count("SELECT COUNT(*) FROM wallet_ledger") == 1)

      // The whole balance can be spent.
      let exact = try await harness.service.pay(PayRequest(userId: 1, scheduleId: 10, amount: 10_000))
      #expect(exact.status == .paid)
      #expect(try await harness.service.balance(userId: 1) == 0)
      #expect(try await harness.service.verify() == [])
    }
  }

  @Test("invalid requests are refused with their own codes", arguments: SQLEngine.allCases)
  func invalidRequests(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      try await harness.service.addUser(id: 1, initialBalance: 10_000)
      let cases: [(PayRequest, PaymentsError.Code)] = [
        (PayRequest(userId: 1, scheduleId: 10, amount: 0), .invalidAmount),
        (PayRequest(userId: 1, scheduleId: 10, amount: -5), .invalidAmount),
        (PayRequest(userId: 0, scheduleId: 10, amount: 5), .invalidId),
        (PayRequest(userId: 1, scheduleId: -1, amount: 5), .invalidId),
        (PayRequest(userId: 1, scheduleId: 10, seat: "", amount: 5), .invalidId),
        (PayRequest(userId: 2, scheduleId: 10, amount: 5), .userNotFound),
      ]
      for (request, code) in cases {
        let error = await #expect(throws: PaymentsError.self) { try await harness.service.pay(request) }
        #expect(error?.code == code, "\(request)")
      }
      #expect(try await harness.count("SELECT COUNT(*) FROM payments") == 0)
    }
  }

  @Test("a seat is sold once per schedule until its reservation is cancelled", arguments: SQLEngine.allCases)
  func seatTaken(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      _ = try await harness.paidSaga()
      try await harness.service.addUser(id: 2, initialBalance: 100_000)
      let error = await #expect(throws: PaymentsError.self) {
        try await harness.service.pay(PayRequest(userId: 2, scheduleId: 10, seat: "A-1", amount: 50_000))
      }
      #expect(error?.code == .seatTaken)
      #expect(try await harness.service.balance(userId: 2) == 100_000)
      let elsewhere = try await harness.service.pay(PayRequest(userId: 2, scheduleId: 11, seat: "A-1", amount: 1_000))
      #expect(elsewhere.status == .paid)
    }
  }

  @Test(
    "addUser refuses an existing id; charge adds through the ledger and refuses bad amounts",
    arguments: SQLEngine.allCases)
  func usersAndCharges(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      try await harness.service.addUser(id: 7)
      #expect(try await harness.service.balance(userId: 7) == 0)
      let exists = await #expect(throws: PaymentsError.self) {
        try await harness.service.addUser(id: 7, initialBalance: 5)
      }
      #expect(exists?.code == .userExists)
      #expect(try await harness.service.charge(userId: 7, amount: 30_000) == 30_000)
      #expect(try await harness.service.charge(userId: 7, amount: 12_345) == 42_345)

      let refusals: [(Int64, Int64, PaymentsError.Code)] = [
        (7, 0, .invalidAmount), (7, -1, .invalidAmount), (7, .max, .invalidAmount), (8, 100, .userNotFound),
      ]
      for (user, amount, code) in refusals {
        let error = await #expect(throws: PaymentsError.self) {
          try await harness.service.charge(userId: user, amount: amount)
        }
        #expect(error?.code == code, "charge \(amount) to user \(user)")
      }
      let missing = await #expect(throws: PaymentsError.self) { try await harness.service.balance(userId: 8) }
      #expect(missing?.code == .userNotFound)
      #expect(try await harness.service.balance(userId: 7) == 42_345)
      #expect(try await harness.count("SELECT COUNT(*) FROM wallet_ledger WHERE user_id = 7") == 2)
      #expect(try await harness.service.payment(id: 1) == nil)
      #expect(try await harness.service.verify() == [])
    }
  }
}
