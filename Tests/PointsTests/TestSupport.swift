import Foundation
import GRDB
import MetricsTestKit
import Points
import SagaCore
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Synchronization

/// A fixed instant with whole milliseconds, so times survive the millisecond columns exactly.
let referenceDate = Date(timeIntervalSince1970: 1_767_225_600)

/// The ids most tests use: user 7 pays 100 for reservation 500.
let userId: Int64 = 7
let paymentId: Int64 = 100
let reservationId: Int64 = 500

/// A Points service on a fresh database of its own.
struct PointsFixture {
  let database: SagaDatabase
  let service: PointsService

  /// Runs `handler` on `message` in one write transaction, as the consume loop does
  /// (minus the savepoint and inbox, which are the loop's business).
  func handle(_ message: InboundMessage, with handler: ReservationCompletedHandler = .init()) async throws {
    try await database.write { db in
      try handler.handle(
        message, context: MessageContext(envelope: message.envelope, service: .points, now: referenceDate), in: db)
    }
  }

  /// Every outbox row, in id order.
  func outbox() async throws -> [OutboxRecord] {
    try await database.read { db in try Outbox.pending(limit: 1000, in: db) }
  }

  func count(_ table: String) async throws -> Int {
    try await database.read { db in try db.value(Int.self, "SELECT COUNT(*) FROM \(table)") ?? 0 }
  }

  /// Every row of `tables`, to prove that nothing changed.
  func snapshot(_ tables: [String] = ["point_accounts", "point_ledger", "reward_failures", "outbox"])
    async throws -> [[String]]
  {
    try await database.read { db in
      try tables.map { table in
        try db.query("SELECT * FROM \(table) ORDER BY 1").map { "\($0.values)" }
      }
    }
  }
}

/// Runs `body` on a fresh database on `engine`: in memory on SQLite, a database of its own on
/// the suite's server (`.postgresServer`) on PostgreSQL; closed afterwards.
func withPoints<T>(on engine: SQLEngine = .sqlite, _ body: (PointsFixture) async throws -> T) async throws -> T {
  let service = PointsService(database: try await PointsDatabase.fresh(on: engine))
  return try await service.database.storage.closing {
    try await body(PointsFixture(database: service.database.storage, service: service))
  }
}

/// Runs `body` on a fresh database file opened as sagad opens it (a WAL pool,
/// `synchronous=FULL`), for what only a file shows: another connection holding its lock.
func withPointsOnDisk<T>(_ body: (PointsFixture) async throws -> T) async throws -> T {
  let directory = try TemporaryDirectory()
  let service = try PointsService(opening: StorageConfiguration(path: directory.path + "/points.sqlite"))
  return try await body(PointsFixture(database: service.database.storage, service: service))
}

func reservationCompleted(
  paidAmount: Int64, userId: Int64 = userId, paymentId: Int64 = paymentId, reservationId: Int64 = reservationId
) -> ReservationCompleted {
  ReservationCompleted(paymentId: paymentId, userId: userId, reservationId: reservationId, paidAmount: paidAmount)
}

/// The envelope Payments would put on a `ReservationCompleted`: a fresh event id, a trace
/// (as `pay` starts one) and its own correlation id.
func paymentsEnvelope(trace: TraceContext = .start(), correlationId: String = "saga-\(UUID().uuidString)")
  -> EventEnvelope
{
  EventEnvelope(
    eventType: .reservationCompleted, trace: trace, correlationId: correlationId, producer: "sagad/payments",
    occurredAt: referenceDate)
}

/// A consumed `reservation-completed` record carrying `event` with `envelope`'s headers.
func message(_ event: ReservationCompleted, envelope: EventEnvelope = paymentsEnvelope(), offset: Int64 = 0)
  -> InboundMessage
{
  InboundMessage(
    topic: SagaTopic.reservationCompleted.rawValue, partition: 0, offset: offset, key: Array(event.messageKey.utf8),
    value: EventCodec.encode(event), headers: envelope.headers)
}

/// A record with a hand-written body, e.g. as the report's Spring service or a broken
/// producer sends it.
func rawMessage(_ body: String, headers: [RecordHeader] = [], offset: Int64 = 0) -> InboundMessage {
  InboundMessage(
    topic: SagaTopic.reservationCompleted.rawValue, partition: 0, offset: offset, key: nil, value: Array(body.utf8),
    headers: headers)
}

extension OutboxRecord {
  /// The row's headers as a consumer on the other side parses them.
  var envelope: ReceivedEnvelope {
    ReceivedEnvelope(headers: headers)
  }

  /// The JSON field names of the payload, sorted.
  var fieldNames: [String] {
    get throws {
      let object = try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any]
      return (object?.keys).map { $0.sorted() } ?? []
    }
  }
}

/// Counts the handler's decisions as it records them, in a metrics factory of its own: the
/// process-wide one is shared by the tests that run in parallel.
final class OutcomeRecorder: Sendable {
  private let testMetrics = TestMetrics()
  let metrics: RewardMetrics

  init() {
    metrics = RewardMetrics(factory: testMetrics)
  }

  /// `sagad_point_rewards_total` by result; results never counted are left out.
  var counts: [String: Int64] {
    var counts: [String: Int64] = [:]
    for counter in testMetrics.counters(label: RewardMetrics.rewards) where counter.totalValue > 0 {
      let result = counter.dimensions.first { $0.0 == "result" }?.1 ?? "?"
      counts[result, default: 0] += counter.totalValue
    }
    return counts
  }

  func handler(rule: RewardRule = .standard) -> ReservationCompletedHandler {
    ReservationCompletedHandler(rule: rule, metrics: metrics)
  }
}
