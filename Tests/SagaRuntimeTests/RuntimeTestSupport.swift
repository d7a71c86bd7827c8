import Foundation
import GRDB
import Logging
import SagaCore
import SagaKafka
import SagaRuntime
import SagaStorage
import SagaTestSupport
import ServiceLifecycle
import Synchronization
import Testing

let silentLogger: Logger = {
  var logger = Logger(label: "runtime-test")
  logger.logLevel = .critical
  return logger
}()

/// A stand-in service for exercising the loop: records each ReservationCompleted it
/// applies in `applied` and answers with a PointRewardCompleted. `transientFailures`
/// makes the next N records fail transiently; with `emits` false it answers nothing.
final class RecordingHandler: SagaMessageHandler {
  let consumerGroup = SagaConsumerGroup.pointsService
  let transientFailures = Mutex(0)
  let emits = Mutex(true)
  /// Writes `applied` with `executeDeferred`: on PostgreSQL the row goes with a later statement.
  let defers = Mutex(false)
  /// ``writesInOneStatement``: its batches are written as one statement on PostgreSQL.
  let oneStatement = Mutex(false)

  func writesInOneStatement(_ messages: [InboundMessage]) -> Bool { oneStatement.withLock { $0 } }

  static func migrations(_ migrator: inout DatabaseMigrator) {
    migrator.registerMigration("test-applied") { db in
      try db.execute("CREATE TABLE applied (payment_id INTEGER PRIMARY KEY, paid INTEGER NOT NULL)")
    }
  }

  func handle(_ message: InboundMessage, context: MessageContext, in db: any SQLConnection) throws(SagaError) {
    let event = try EventCodec.decode(ReservationCompleted.self, from: message.value ?? [])
    let fail = transientFailures.withLock { remaining in
      defer { remaining = max(remaining - 1, 0) }
      return remaining > 0
    }
    if fail { throw SagaError(.injectedTransient, "injected") }
    do {
      let insert = "INSERT INTO applied (payment_id, paid) VALUES (?, ?)"
      if defers.withLock({ $0 }) {
        try db.executeDeferred(insert, [event.paymentId, event.paidAmount])
      } else {
        try db.execute(insert, [event.paymentId, event.paidAmount])
      }
    } catch {
      throw SagaError.storage(error)
    }
    guard emits.withLock({ $0 }) else { return }
    try context.emit(
      PointRewardCompleted(
        pointId: event.paymentId, userId: event.userId, rewardedAmount: event.paidAmount / 10,
        reservationId: event.reservationId, paymentId: event.paymentId), in: db)
  }
}

func appliedCount(_ database: SagaDatabase) async throws -> Int {
  try await database.read { db in try db.value(Int.self, "SELECT COUNT(*) FROM applied") ?? 0 }
}

func reservationCompleted(_ paymentId: Int64, paid: Int64 = 10_000) -> KafkaProducerMessage {
  let event = ReservationCompleted(paymentId: paymentId, userId: 7, reservationId: paymentId + 1000, paidAmount: paid)
  let envelope = EventEnvelope(eventType: .reservationCompleted, trace: .start())
  return KafkaProducerMessage(
    topic: SagaTopic.reservationCompleted.rawValue, key: Array(event.messageKey.utf8), value: EventCodec.encode(event),
    headers: envelope.headers)
}

/// A record on `reservation-completed.DLT` as sagad dead-letters one: the original's
/// coordinates (partition 0, `originalOffset`), the failure, and with `eventId` the
/// envelope's headers.
func reservationCompletedDeadLetter(
  originalOffset: Int64, eventId: Bool, key: [UInt8], value: [UInt8], reason: String, errorType: String? = nil,
  attempts: Int, failureClass: String
) -> KafkaProducerMessage {
  let envelope = EventEnvelope(eventType: .reservationCompleted, trace: .start())
  var headers = eventId ? envelope.headers : []
  headers += [
    RecordHeader(name: HeaderName.DeadLetter.originalTopic, value: "reservation-completed"),
    RecordHeader(name: HeaderName.DeadLetter.originalPartition, value: "0"),
    RecordHeader(name: HeaderName.DeadLetter.originalOffset, value: String(originalOffset)),
  ]
  if let errorType { headers.append(RecordHeader(name: HeaderName.DeadLetter.exceptionFqcn, value: errorType)) }
  headers += [
    RecordHeader(name: HeaderName.DeadLetter.exceptionMessage, value: reason),
    RecordHeader(name: HeaderName.attempts, value: String(attempts)),
    RecordHeader(name: HeaderName.failureClass, value: failureClass),
  ]
  return KafkaProducerMessage(
    topic: SagaTopic.reservationCompleted.deadLetterTopic, key: key, value: value, headers: headers)
}

func produce(_ cluster: EmbeddedKafkaCluster, _ messages: [KafkaProducerMessage]) async throws {
  let producer = try KafkaProducer(
    configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: silentLogger)
  for ticket in try await producer.send(messages) {
    let report = await ticket.report
    #expect(report.isPersisted, "\(report)")
  }
  await producer.close()
}

func testConsumer(_ cluster: EmbeddedKafkaCluster, group: SagaConsumerGroup) throws -> KafkaConsumer {
  var config = KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupId: group.rawValue)
  config.sessionTimeout = .seconds(4)
  config.heartbeatInterval = .milliseconds(500)
  return try KafkaConsumer(configuration: config, logger: silentLogger)
}

/// Runs `service` in the background until the returned task is cancelled.
func start(_ service: some Service) -> Task<Void, any Error> {
  Task { try await service.run() }
}

/// Runs the supervisor's tasks in a service group of their own, as sagad runs them in its
/// one group, until the returned task is cancelled.
func start(_ supervisor: Supervisor) -> Task<Void, any Error> {
  let group = ServiceGroup(
    configuration: ServiceGroupConfiguration(services: supervisor.services, logger: silentLogger))
  return Task { try await group.run() }
}
