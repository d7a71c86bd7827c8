import Foundation
import Points
import SagaCore
import SagaStorage
import SagaTestSupport
import Testing

@Suite("Rewarding a completed reservation", .postgresServer, .timeLimit(.minutes(2)))
struct RewardTests {
  /// Docs/design.md ("Reward") and issue 3's table: 10 %, rounded down to 100, in integers; the last
  /// row is beyond what a `double` holds exactly. A payment of 0 (a Java peer's `Long` 0)
  /// earns a reward of 0, which is a success.
  static let table: [(paid: Int64, reward: Int64)] = [
    (0, 0), (999, 0), (1_000, 100), (12_345, 1_200), (50_000, 5_000), (Int64.max / 10, 92_233_720_368_547_700),
  ]

  @Test(
    "the reward rule through the handler: ledger, balance and one announced event", arguments: SQLEngine.allCases, table
  )
  func rewardRule(engine: SQLEngine, row: (paid: Int64, reward: Int64)) async throws {
    let (paid, expected) = row
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      let recorder = OutcomeRecorder()
      let incoming = paymentsEnvelope()
      try await points.handle(
        message(reservationCompleted(paidAmount: paid), envelope: incoming), with: recorder.handler())

      #expect(recorder.counts == ["rewarded": 1])
      let reward = try #require(try await points.service.reward(userId: userId, paymentId: paymentId))
      #expect(reward.amount == expected && reward.paidAmount == paid && reward.reservationId == reservationId)
      #expect(reward.createdAt == referenceDate)
      #expect(try await points.service.balance(userId: userId) == expected)
      #expect(try await points.count("point_ledger") == 1)
      #expect(try await points.count("reward_failures") == 0)

      let rows = try await points.outbox()
      try #require(rows.count == 1)
      let row = rows[0]
      #expect(row.topic == "point-reward-completed")
      #expect(row.key == String(paymentId))
      // A reward of 0 is a success too: a completed event, never a failure.
      #expect(
        try EventCodec.decode(PointRewardCompleted.self, from: row.payload)
          == PointRewardCompleted(
            pointId: reward.pointId, userId: userId, rewardedAmount: expected, reservationId: reservationId,
            paymentId: paymentId))
      #expect(try row.fieldNames == EventType.pointRewardCompleted.fieldNames.sorted())
      expectContinues(row, incoming, as: .pointRewardCompleted)
      #expect(try await points.service.verify() == [])
    }
  }

  @Test(
    "the outgoing headers continue the incoming trace and correlation id as sagad/points", arguments: SQLEngine.allCases
  )
  func continuesTrace(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      let incoming = paymentsEnvelope()
      try await points.handle(message(reservationCompleted(paidAmount: 50_000), envelope: incoming))
      let row = try #require(try await points.outbox().first)
      let outgoing = try #require(row.envelope.envelope, "all seven envelope headers are present and valid")
      #expect(outgoing.trace.traceId == incoming.trace.traceId)
      #expect(outgoing.trace.spanId != incoming.trace.spanId, "a child span per hop")
      #expect(outgoing.correlationId == incoming.correlationId)
      #expect(outgoing.producer == "sagad/points")
      #expect(outgoing.eventType == .pointRewardCompleted)
      #expect(outgoing.eventVersion == .current)
      #expect(outgoing.eventId != incoming.eventId)
      #expect(outgoing.occurredAtMilliseconds == RFC3339Timestamp.milliseconds(of: referenceDate))
    }
  }

  @Test(
    "a report-format body (no eventVersion, no headers, extra fields) is rewarded under a new trace",
    arguments: SQLEngine.allCases)
  func reportFormat(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      // As the report's Spring service sends it: no envelope, Jackson's field order.
      let body = #"{"paymentId":100,"userId":7,"reservationId":500,"paidAmount":50000,"scheduleId":3}"#
      try await points.handle(rawMessage(body))

      #expect(try await points.service.balance(userId: userId) == 5_000)
      let row = try #require(try await points.outbox().first)
      let event = try EventCodec.decode(PointRewardCompleted.self, from: row.payload)
      #expect(event.rewardedAmount == 5_000 && event.paymentId == paymentId && event.reservationId == reservationId)
      // No traceparent came in, so the reward starts a trace; its id is the correlation id.
      let outgoing = try #require(row.envelope.envelope)
      #expect(outgoing.correlationId == outgoing.trace.traceId)
      #expect(outgoing.producer == "sagad/points")
    }
  }

  @Test("a non-default rule: 5 % rounded down to 10", arguments: SQLEngine.allCases)
  func customRule(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      let rule = try RewardRule(rateBasisPoints: 500, unit: 10)
      let recorder = OutcomeRecorder()
      try await points.handle(message(reservationCompleted(paidAmount: 12_345)), with: recorder.handler(rule: rule))
      try await points.handle(
        message(reservationCompleted(paidAmount: 999, paymentId: 101)), with: recorder.handler(rule: rule))

      // 12,345 × 5 % = 617.25 → 610; 999 × 5 % = 49.95 → 40.
      #expect(recorder.counts == ["rewarded": 2])
      #expect(try await points.service.balance(userId: userId) == 650)
      let amounts = try await points.outbox().map {
        try EventCodec.decode(PointRewardCompleted.self, from: $0.payload).rewardedAmount
      }
      #expect(amounts == [610, 40])
    }
  }

  @Test("rewards accumulate per user and each gets its own pointId", arguments: SQLEngine.allCases)
  func accumulates(engine: SQLEngine) async throws {
    try await withPoints(on: engine) { points in
      try await points.service.enroll(userId: userId)
      try await points.service.enroll(userId: 8)
      try await points.handle(message(reservationCompleted(paidAmount: 50_000, paymentId: 1)))
      try await points.handle(message(reservationCompleted(paidAmount: 12_345, paymentId: 2)))
      try await points.handle(message(reservationCompleted(paidAmount: 1_000, userId: 8, paymentId: 3)))

      #expect(try await points.service.balance(userId: userId) == 6_200)
      #expect(try await points.service.balance(userId: 8) == 100)
      let pointIds = try await points.outbox().map {
        try EventCodec.decode(PointRewardCompleted.self, from: $0.payload).pointId
      }
      #expect(Set(pointIds).count == 3)
      #expect(try await points.service.verify() == [])
    }
  }
}

/// `row` is a `type` event whose envelope continues `incoming`'s trace as sagad/points.
func expectContinues(
  _ row: OutboxRecord, _ incoming: EventEnvelope, as type: EventType, sourceLocation: SourceLocation = #_sourceLocation
) {
  let outgoing = row.envelope
  #expect(outgoing.eventType == type, sourceLocation: sourceLocation)
  #expect(outgoing.trace?.traceId == incoming.trace.traceId, sourceLocation: sourceLocation)
  #expect(outgoing.correlationId == incoming.correlationId, sourceLocation: sourceLocation)
  #expect(outgoing.producer == "sagad/points", sourceLocation: sourceLocation)
  #expect(outgoing.eventId != nil && outgoing.eventId != incoming.eventId, sourceLocation: sourceLocation)
}
