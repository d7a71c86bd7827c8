import Foundation
import MetricsTestKit
import SagaCore
import SagaStorage
import SagaTestSupport
import Synchronization
import Testing

@testable import Payments

/// Many concurrent `pay`s, grouped, on both engines. On PostgreSQL a request's writes are held
/// and ride with the next request's decision when that request is another user's (one round
/// trip per `pay`): a decision must still see every earlier request of its group.
@Suite("Payments: concurrent pay groups on both engines", .postgresServer, .timeLimit(.minutes(2)))
struct PayGroupEnginesTests {
  /// `requests` as `PayGroupCommit.apply` takes them, each with an envelope of its own.
  private static func group(_ requests: [PayRequest]) -> [(PayRequest, EventEnvelope, Date)] {
    let now = Date()
    return requests.map { request in
      let envelope = EventEnvelope(
        eventType: .reservationCompleted, trace: .start(), producer: "sagad/payments", occurredAt: now)
      return (request, envelope, now)
    }
  }

  @Test(
    "grouped requests of several users, repeats and refusals: one payment per key, balances and ledger agree, events in payment order",
    arguments: SQLEngine.allCases)
  func groups(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      let balances: [Int64: Int64] = [1: 100_000, 2: 100_000, 3: 100_000, 4: 30_000]
      for (user, balance) in balances.sorted(by: { $0.key < $1.key }) {
        try await harness.service.addUser(id: user, initialBalance: balance)
      }
      let group = PayGroupCommit(database: harness.payments, maxGroupSize: 64, afterCommit: nil)
      // Eight requests per user over six schedules: schedules 1 and 2 come twice (the same key).
      let requests = (0..<32).map { (index: Int) -> PayRequest in
        let user = Int64(index % 4) + 1
        let schedule = Int64(index / 4 % 6) + 1
        return PayRequest(userId: user, scheduleId: schedule, amount: 10_000)
      }
      let now = Date()
      let outcomes = await withTaskGroup(of: (Int, PayGroupCommit.Outcome).self) { tasks in
        for (index, request) in requests.enumerated() {
          tasks.addTask {
            let envelope = EventEnvelope(
              eventType: .reservationCompleted, trace: .start(), producer: "sagad/payments", occurredAt: now)
            return (index, await group.submit(request, envelope: envelope, at: now))
          }
        }
        var outcomes = [Int: PayGroupCommit.Outcome]()
        for await (index, outcome) in tasks { outcomes[index] = outcome }
        return outcomes
      }
      #expect(group.statistics.largestGroup > 1, "the requests were grouped")

      // Concurrent submissions reach the queue in any order: per key, whichever request came
      // first made the payment, and every other success is a duplicate of it.
      var successesByKey = [String: [PayResult]]()
      for (index, request) in requests.enumerated() {
        let key = "\(request.userId)/\(request.scheduleId)"
        switch outcomes[index] {
        case .success(let paid): successesByKey[key, default: []].append(paid)
        case .failure(let refusal):
          #expect(refusal.code == .insufficientBalance && request.userId == 4, "\(key): \(refusal)")
        case nil:
          Issue.record("no outcome for \(key)")
        }
      }
      var paymentByKey = [String: Int64]()
      for (key, successes) in successesByKey {
        let made = successes.filter { !$0.duplicate }
        #expect(made.count == 1, "\(key): one payment made")
        guard let payment = made.first else { continue }
        #expect(successes.allSatisfy { $0.paymentId == payment.paymentId }, "\(key): duplicates name it")
        paymentByKey[key] = payment.paymentId
      }
      for (user, balance) in balances {
        let paid = Int64(paymentByKey.keys.count(where: { $0.hasPrefix("\(user)/") }))
        #expect(paid == (user == 4 ? 3 : 6), "user \(user)")
        #expect(try await harness.service.balance(userId: user) == balance - paid * 10_000, "user \(user)")
      }
      let payments = paymentByKey.values.sorted()
      #expect(try await harness.count("SELECT COUNT(*) FROM payments") == payments.count)
      #expect(try await harness.count("SELECT COUNT(*) FROM saga_steps") == payments.count)
      let events = try await harness.outbox(.reservationCompleted)
      #expect(events.map(\.id) == events.map(\.id).sorted())
      #expect(events.map(\.key) == payments.map(String.init), "the events are in the order of the payments")
      #expect(try await harness.service.verify() == [])
    }
  }

  @Test(
    "in one group, a user's later request sees its earlier ones: balance, idempotency key, refusal",
    arguments: SQLEngine.allCases)
  func laterRequestsSeeEarlier(engine: SQLEngine) async throws {
    try await PaymentsHarness.run(on: engine) { harness in
      for user: Int64 in 1...3 { try await harness.service.addUser(id: user, initialBalance: 100_000) }
      let requests = Self.group([
        PayRequest(userId: 1, scheduleId: 1, amount: 30_000), PayRequest(userId: 2, scheduleId: 1, amount: 10_000),
        PayRequest(userId: 1, scheduleId: 2, amount: 30_000), PayRequest(userId: 1, scheduleId: 3, amount: 50_000),
        PayRequest(userId: 2, scheduleId: 1, amount: 10_000), PayRequest(userId: 3, scheduleId: 1, amount: 10_000),
      ])
      let outcomes = try await harness.database.write { db in try PayGroupCommit.apply(requests, in: db) }
      let paid = outcomes.map { try? $0.get().result }
      #expect(paid[0]?.duplicate == false && paid[1]?.duplicate == false && paid[2]?.duplicate == false)
      #expect(outcomes[3].failure?.code == .insufficientBalance, "40,000 KRW left after two payments")
      #expect(paid[4]?.duplicate == true && paid[4]?.paymentId == paid[1]?.paymentId)
      #expect(paid[5]?.duplicate == false)
      #expect(try await harness.service.balance(userId: 1) == 40_000)
      #expect(try await harness.service.balance(userId: 2) == 90_000)
      #expect(try await harness.service.balance(userId: 3) == 90_000)
      #expect(try await harness.count("SELECT COUNT(*) FROM payments") == 4)
      #expect(try await harness.service.verify() == [])
    }
  }

  @Test(
    "on PostgreSQL a group's decisions are one statement and its writes go unanswered: its waits do not grow with it")
  func decisionsInOneStatement() async throws {
    try await PaymentsHarness.run(on: .postgres) { harness in
      for user: Int64 in 1...20 { try await harness.service.addUser(id: user, initialBalance: 100_000) }
      // The first group also prepares the statements on the connection (a wait each).
      let earlier = try await harness.database.write { db in
        try PayGroupCommit.apply(Self.group([PayRequest(userId: 5, scheduleId: 1, amount: 10_000)]), in: db)
      }
      let earlierPayment = try #require(try? earlier[0].get().result).paymentId
      // Twenty users, one of them (5) repeating a key paid before, a user without a wallet,
      // and later requests of users 1 and 3 (read after their first ones' writes); user 1's
      // comes before the other users' first requests.
      let requests =
        [PayRequest(userId: 1, scheduleId: 1, amount: 10_000), PayRequest(userId: 1, scheduleId: 2, amount: 10_000)]
        + (2...20).map { PayRequest(userId: Int64($0), scheduleId: 1, amount: 10_000) }
        + [PayRequest(userId: 99, scheduleId: 1, amount: 10_000), PayRequest(userId: 3, scheduleId: 2, amount: 95_000)]
      let second = try await harness.database.write { db in try PayGroupCommit.apply(Self.group(requests), in: db) }
      #expect(
        (try? second[5].get().result)?.duplicate == true && (try? second[5].get().result)?.paymentId == earlierPayment)
      let (outcomes, waits) = try await harness.database.write { db in
        let connection = try #require(db as? PostgresSQLConnection)
        let start = connection.roundTrips
        let outcomes = try PayGroupCommit.apply(
          Self.group(requests.map { PayRequest(userId: $0.userId, scheduleId: $0.scheduleId + 10, amount: $0.amount) }),
          in: db)
        return (outcomes, connection.roundTrips - start)
      }
      // The decisions (the locks go unanswered in front of them), and one decision for each
      // later request (behind the writes before it).
      #expect(waits == 3, "one wait per request would be \(requests.count)")
      let paid = outcomes[0..<21].compactMap { try? $0.get().result }
      #expect(paid.count == 21 && paid.allSatisfy { !$0.duplicate })
      #expect(paid.map(\.paymentId) == paid.map(\.paymentId).sorted(), "payment ids in the order accepted")
      #expect(outcomes[21].failure?.code == .userNotFound)
      #expect(outcomes[22].failure?.code == .insufficientBalance, "user 3 has 80,000 KRW after its two payments")
      let events = try await harness.outbox(.reservationCompleted)
      #expect(events.suffix(21).map(\.key) == paid.map { String($0.paymentId) }, "events in payment order")
      let again = try await harness.database.write { db in
        try PayGroupCommit.apply(Self.group([PayRequest(userId: 5, scheduleId: 1, amount: 10_000)]), in: db)
      }
      #expect(
        (try? again[0].get().result)?.duplicate == true && (try? again[0].get().result)?.paymentId == earlierPayment)
      #expect(try await harness.service.balance(userId: 1) == 60_000)
      #expect(try await harness.service.balance(userId: 3) == 80_000)
      #expect(try await harness.service.balance(userId: 5) == 80_000)
      // 1, then 20 + 21 new ones (the second group's request of user 5 was a duplicate).
      #expect(try await harness.count("SELECT COUNT(*) FROM payments") == 42)
      #expect(try await harness.service.verify() == [])
    }
  }

  @Test("on PostgreSQL a group locks its wallets in user order first: waiting for one wallet, it holds none after it")
  func walletsLockedInUserOrder() async throws {
    try await PaymentsSchema.twoInstanceDatabases { database, other in
      let service = PaymentsService(database: database)
      for user: Int64 in 1...2 { try await service.addUser(id: user, initialBalance: 100_000) }
      let locked = Mutex(false)
      // It holds user 1's wallet while the group (user 2 first, then user 1) runs.
      let holder = Task {
        try await other.storage.write { db -> Bool in
          _ = try db.query("SELECT user_id FROM wallets WHERE user_id = 1 FOR UPDATE")
          locked.withLock { $0 = true }
          for _ in 0..<1_000 {
            let waiting = try db.value(
              Int.self,
              "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
            if waiting == 1 { break }
            Thread.sleep(forTimeInterval: 0.01)
          }
          // Had the group locked in request order, it would hold user 2's wallet now.
          var free = true
          try db.savepoint {
            do {
              _ = try db.query("SELECT user_id FROM wallets WHERE user_id = 2 FOR UPDATE NOWAIT")
              return .commit
            } catch let error as StorageError where error.sqlState == "55P03" {
              free = false
              return .rollback
            }
          }
          return free
        }
      }
      try await eventually("user 1's wallet is held") { locked.withLock { $0 } }
      let requests = Self.group([Int64(2), 1].map { PayRequest(userId: $0, scheduleId: 1, amount: 10_000) })
      let outcomes = try await database.storage.write { db in try PayGroupCommit.apply(requests, in: db) }
      #expect(try await holder.value, "the group waited for user 1 holding no wallet after it")
      #expect(outcomes.allSatisfy { (try? $0.get().result)?.duplicate == false })
    }
  }

  @Test(
    "on PostgreSQL a group of distinct users is one statement without locks; a wallet changed since its read, or a read after its writes, sends it under locks"
  )
  func unlockedGroups() async throws {
    try await PaymentsSchema.twoInstanceDatabases { database, other in
      let service = PaymentsService(database: database)
      for user: Int64 in 1...4 { try await service.addUser(id: user, initialBalance: 100_000) }
      let recorded = TestMetrics()
      let group = PayGroupCommit(
        database: database, maxGroupSize: 64, afterCommit: nil, metrics: PaymentsMetrics(factory: recorded))
      @Sendable func groups(_ write: PaymentsMetrics.GroupWrite) -> Int64 {
        recorded.counters(label: PaymentsMetrics.payGroups)
          .filter { $0.dimensions.contains { $0 == ("write", write.rawValue) } }.map(\.totalValue).reduce(0, +)
      }
      let now = Date()
      @Sendable func pay(_ user: Int64, _ schedule: Int64) async -> PayGroupCommit.Outcome {
        let envelope = EventEnvelope(
          eventType: .reservationCompleted, trace: .start(), producer: "sagad/payments", occurredAt: now)
        return await group.submit(
          PayRequest(userId: user, scheduleId: schedule, amount: 10_000), envelope: envelope, at: now)
      }
      // Alone: one statement, no lock.
      #expect((try? await pay(3, 1).get())?.duplicate == false)
      #expect(group.statistics.unlockedGroups == 1 && group.statistics.unlockedFallbacks == 0)

      // Another transaction holds user 1's wallet and charges it while user 1's group waits.
      let state = Mutex((locked: false, release: false))
      let holder = Task {
        try await other.storage.write { db in
          _ = try db.query("SELECT user_id FROM wallets WHERE user_id = 1 FOR UPDATE")
          try Wallet.post(.charge, userId: 1, amount: 1_000, at: now, in: db)
          try db.flushDeferred()
          state.withLock { $0.locked = true }
          while !state.withLock({ $0.release }) { Thread.sleep(forTimeInterval: 0.005) }
        }
      }
      try await eventually("user 1's wallet is held") { state.withLock { $0.locked } }
      let first = Task { await pay(1, 1) }
      try await eventually("user 1's group waits for the wallet") {
        try await database.storage.readStatement { db in
          try db.value(
            Int.self,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
        } == 1
      }
      // Queued behind it as one group: user 2, and user 3 again with the key it paid: its
      // duplicate needs a read after user 2's held writes, which one statement cannot take.
      let second = Task { await pay(2, 1) }
      try await eventually("user 2 queued") { group.statistics.queued == 1 }
      let third = Task { await pay(3, 1) }
      try await eventually("user 3 queued") { group.statistics.queued == 2 }
      state.withLock { $0.release = true }
      try await holder.value

      let paid = try await first.value.get()
      #expect(!paid.duplicate, "paid under locks, from the charged balance")
      #expect(try await service.balance(userId: 1) == 91_000, "the charge and the payment, neither lost")
      #expect((try? await second.value.get())?.duplicate == false)
      #expect((try? await third.value.get())?.duplicate == true)
      #expect(group.statistics.unlockedFallbacks == 2, "user 1's changed wallet, user 3's duplicate")
      #expect(group.statistics.unlockedGroups == 1)
      #expect(groups(.oneStatement) == 1 && groups(.transaction) == 2)
      #expect(recorded.counterTotal(label: PaymentsMetrics.payGroupFallbacks) == 2)
      #expect(try await service.balance(userId: 2) == 90_000)
      #expect(try await service.balance(userId: 3) == 90_000)
      #expect(try await service.verify() == [])
    }
  }

  @Test(
    "on PostgreSQL a group of one statement reads its seats with its decisions; a seat taken twice in it fails it whole"
  )
  func unlockedSeats() async throws {
    try await PaymentsHarness.run(on: .postgres) { harness in
      for user: Int64 in 1...5 { try await harness.service.addUser(id: user, initialBalance: 100_000) }
      _ = try await harness.service.pay(PayRequest(userId: 1, scheduleId: 7, seat: "A-1", amount: 10_000))
      // Seats free and taken, no read after the first write: one statement, no refusal of it.
      let outcomes = try await harness.database.writeInOneStatement { db in
        try PayGroupCommit.apply(
          Self.group([
            PayRequest(userId: 2, scheduleId: 7, seat: "A-2", amount: 10_000),
            PayRequest(userId: 3, scheduleId: 7, seat: "A-1", amount: 10_000),
            PayRequest(userId: 4, scheduleId: 7, amount: 10_000),
          ]), locking: false, in: db)
      }
      #expect((try? outcomes[0].get().result)?.duplicate == false)
      #expect(outcomes[1].failure?.code == .seatTaken)
      #expect((try? outcomes[2].get().result)?.duplicate == false)
      // Two requests of the group for one seat: both read it free; the second breaks its key.
      let twice = await #expect(throws: StorageError.self) {
        try await harness.database.writeInOneStatement { db in
          try PayGroupCommit.apply(
            Self.group([
              PayRequest(userId: 4, scheduleId: 8, seat: "B-1", amount: 10_000),
              PayRequest(userId: 5, scheduleId: 8, seat: "B-1", amount: 10_000),
            ]), locking: false, in: db)
        }
      }
      #expect(twice?.kind == .constraint)
      #expect(try await harness.count("SELECT COUNT(*) FROM payments") == 3, "nothing of the failed statement")
      #expect(try await harness.service.balance(userId: 4) == 90_000)
      #expect(try await harness.service.verify() == [])
    }
  }
}
