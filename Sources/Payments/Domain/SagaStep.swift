public import Foundation

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
