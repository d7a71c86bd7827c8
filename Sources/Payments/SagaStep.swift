public import Foundation
import GRDB
import SagaCore

/// One row of a saga's timeline (`saga_steps`), written in the same transaction as the
/// change it describes, so `sagactl saga <payment>` shows exactly what happened and in
/// which order, including the events that changed nothing.
public struct SagaStep: Sendable, Hashable {
  /// What kind of step; stored as the raw value.
  public enum Kind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// `pay` committed the payment and announced `ReservationCompleted`.
    case paymentAccepted = "payment-accepted"
    /// `point-reward-completed` moved the payment to `REWARDED`.
    case rewardCompleted = "reward-completed"
    /// `point-reward-failed` moved the payment to `REWARD_FAILED`.
    case rewardFailed = "reward-failed"
    /// `compensate-payment` refunded the payment and cancelled its reservation.
    case compensationRefunded = "compensation-refunded"
    /// `compensate-payment` could not be applied; the payment is parked.
    case compensationFailed = "compensation-failed"
    /// `compensate-payment` for a compensation already decided: nothing changed.
    case compensationDuplicate = "compensation-duplicate"
    /// A reward event that arrived after the saga had moved on: nothing changed.
    case lateEventIgnored = "late-event-ignored"
    /// An operator closed a parked compensation without a refund (`compensations resolve`).
    case compensationResolved = "compensation-resolved"
    /// The stuck-saga sweeper re-announced `ReservationCompleted` (no outcome in time).
    case republished = "republished"
    /// The sweeper gave up re-announcing (`sweeper.max_republish`): an operator must look.
    case stuckReported = "stuck-reported"

    public var description: String { rawValue }
  }

  /// How an outcome names the reason of an event whose `reason` is null (a Java peer's
  /// exception without a message): the event said nothing, and the timeline says so.
  public static let noReason = "no reason given (reason: null)"

  public var id: Int64
  public var paymentId: Int64
  public var at: Date
  public var step: Kind
  /// Where the message that caused the step was read; nil for `pay`.
  public var topic: String?
  public var partition: Int32?
  public var offset: Int64?
  /// The causing message's `eventId` header (or the outbox event's for `pay`), when known.
  public var eventId: String?
  /// What happened, for people: the state reached or why nothing changed.
  public var outcome: String

  public init(
    id: Int64, paymentId: Int64, at: Date, step: Kind, topic: String?, partition: Int32?, offset: Int64?,
    eventId: String?, outcome: String
  ) {
    self.id = id
    self.paymentId = paymentId
    self.at = at
    self.step = step
    self.topic = topic
    self.partition = partition
    self.offset = offset
    self.eventId = eventId
    self.outcome = outcome
  }
}

extension SagaStep {
  /// Appends a step for `paymentId`, caused by `message` when there is one.
  static func record(
    _ step: Kind, paymentId: Int64, outcome: String, message: InboundMessage? = nil, eventId: String? = nil,
    at now: Date, in db: Database
  ) throws {
    // Cached: one step per pay and per saga event.
    try db.cachedStatement(
      sql: """
        INSERT INTO saga_steps (payment_id, at, step, topic, "partition", "offset", event_id, outcome)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """
    ).execute(arguments: [
      paymentId, now.paymentsMilliseconds, step.rawValue, message?.topic, message?.partition, message?.offset,
      eventId ?? message?.envelope.eventId.map(\.lowercasedText), outcome,
    ])
  }

  /// The timeline of `paymentId`, oldest first.
  static func fetchAll(paymentId: Int64, in db: Database) throws -> [SagaStep] {
    try Row.fetchAll(
      db,
      sql: """
        SELECT id, payment_id, at, step, topic, "partition", "offset", event_id, outcome
        FROM saga_steps WHERE payment_id = ? ORDER BY id
        """,
      arguments: [paymentId]
    ).map { row in
      let id: Int64 = row["id"]
      guard let step = Kind(rawValue: row["step"]) else {
        throw PaymentsError(.internalError, "saga step \(id) has an unknown kind")
      }
      return SagaStep(
        id: id, paymentId: row["payment_id"], at: Date(paymentsMilliseconds: row["at"]), step: step,
        topic: row["topic"], partition: row["partition"], offset: row["offset"], eventId: row["event_id"],
        outcome: row["outcome"])
    }
  }
}
