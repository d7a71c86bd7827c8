import Foundation
import GRDB
import MetricsTestKit
import Payments
import SagaCore
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Synchronization

/// A Payments service on a fresh database of its own, with helpers to feed its handlers
/// messages the way the consume loop does: encoded bodies with envelope headers, applied
/// inside a write transaction.
struct PaymentsHarness: Sendable {
  let payments: PaymentsDatabase
  let service: PaymentsService

  /// The storage side, as the consume loop sees it (outbox, raw SQL in tests).
  var database: SagaDatabase { payments.storage }

  /// Runs `body` on a fresh database on `engine`: in memory on SQLite, a database of its own on
  /// the suite's server (`.postgresServer`) on PostgreSQL; closed afterwards.
  static func run(on engine: SQLEngine = .sqlite, _ body: (PaymentsHarness) async throws -> Void) async throws {
    let database = try await PaymentsDatabase.fresh(on: engine)
    try await database.storage.closing {
      try await body(PaymentsHarness(payments: database, service: PaymentsService(database: database)))
    }
  }

  /// Runs `body` on a fresh database file opened as sagad opens it (a WAL pool,
  /// `synchronous=FULL`), for what only a file shows: durability across a reopen, readers
  /// beside a busy writer. The directory is removed afterwards.
  static func runOnDisk(_ body: (PaymentsHarness) async throws -> Void) async throws {
    let directory = try TemporaryDirectory()
    let database = try PaymentsDatabase(opening: StorageConfiguration(path: directory.path + "/payments.sqlite"))
    try await body(PaymentsHarness(payments: database, service: PaymentsService(database: database)))
  }

  /// User 1 with 100,000 KRW pays 50,000 KRW for schedule 10: the start of every saga test.
  func paidSaga(userId: Int64 = 1, scheduleId: Int64 = 10) async throws -> PayResult {
    try await service.addUser(id: userId, initialBalance: 100_000)
    return try await service.pay(PayRequest(userId: userId, scheduleId: scheduleId, seat: "A-1", amount: 50_000))
  }

  /// Applies `message` with `handler` in one write transaction, as the loop does.
  func handle(_ handler: some SagaMessageHandler, _ message: InboundMessage) async throws {
    try await database.write { db in
      try handler.handle(
        message, context: MessageContext(envelope: message.envelope, service: .payments), in: db)
    }
  }

  /// The unsent outbox rows of `topic`, oldest first.
  func outbox(_ topic: SagaTopic) async throws -> [OutboxRecord] {
    try await database.read { db in
      try Outbox.pending(limit: 1000, in: db).filter { $0.topic == topic.rawValue }
    }
  }

  /// The single integer `sql` selects.
  func count(_ sql: String) async throws -> Int {
    try await database.read { db in try db.value(Int.self, sql) ?? 0 }
  }

  func status(_ paymentId: Int64) async throws -> PaymentStatus? {
    try await service.payment(id: paymentId)?.status
  }

  func steps(_ paymentId: Int64) async throws -> [SagaStep.Kind] {
    try await service.steps(paymentId: paymentId).map(\.step)
  }
}

/// A consumed record carrying `event` as Points (or the report's service) would send it:
/// the codec's body, the payment id as key, and envelope headers with a new trace unless
/// `headers` is false (the report's services send none).
func inbound<E: SagaEvent>(
  _ event: E, offset: Int64 = 0, trace: TraceContext = .start(), headers: Bool = true
) -> InboundMessage {
  InboundMessage(
    topic: E.topic.rawValue, partition: 0, offset: offset, key: Array(event.messageKey.utf8),
    value: EventCodec.encode(event),
    headers: headers ? EventEnvelope(eventType: E.eventType, trace: trace).headers : [])
}

/// The envelope of an outbox row, as a consumer would read it.
func envelope(of record: OutboxRecord) -> ReceivedEnvelope {
  ReceivedEnvelope(headers: record.headers)
}

/// Counts the compensation outcomes as the handler records them, in a metrics factory of its
/// own: the process-wide one is shared by the tests that run in parallel.
final class OutcomeRecorder: Sendable {
  private let testMetrics = TestMetrics()
  let metrics: PaymentsMetrics

  init() {
    metrics = PaymentsMetrics(factory: testMetrics)
  }

  /// `compensate_payment_total` by result, with the redeliveries under `duplicate`; results
  /// never counted are left out.
  var counts: [String: Int64] {
    var counts: [String: Int64] = [:]
    for counter in testMetrics.counters(label: PaymentsMetrics.compensations) where counter.totalValue > 0 {
      let result = counter.dimensions.first { $0.0 == "result" }?.1 ?? "?"
      counts[result, default: 0] += counter.totalValue
    }
    let redeliveries = testMetrics.counterTotal(label: PaymentsMetrics.compensationRedeliveries)
    if redeliveries > 0 { counts["duplicate"] = redeliveries }
    return counts
  }
}
