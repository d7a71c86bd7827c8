public import Foundation

/// One step of a saga as Points saw it (`point_saga_steps`), written in the transaction of
/// the decision it describes, so `sagactl saga <payment>` can show the Points side next to
/// Payments' own timeline: which `ReservationCompleted` arrived (topic, partition, offset),
/// what was decided, and the outbox rows that carried the answer.
public struct PointsSagaStep: Sendable, Hashable {
  public enum Kind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// A `ReservationCompleted` credited the reward.
    case rewardRecorded = "reward-recorded"
    /// A `ReservationCompleted` failed for good; the failure was recorded.
    case failureRecorded = "reward-failure-recorded"
    /// A `ReservationCompleted` for a payment already decided (a redelivery or the
    /// sweeper's re-announcement): the recorded outcome was announced again.
    case reannouncementAnswered = "re-announcement-answered"
    /// An event Points wrote to its outbox for this payment, at the time it was written:
    /// sent (with when Kafka confirmed it), or still pending.
    case published = "published"

    public var description: String { rawValue }
  }

  public var at: Date
  public var step: Kind
  /// Where the message was read (received steps) or the topic it goes to (`published`).
  public var topic: String?
  public var partition: Int32?
  public var offset: Int64?
  /// The received `ReservationCompleted`'s `eventId`, or the published event's.
  public var eventId: String?
  /// What happened, for people.
  public var outcome: String

  public init(
    at: Date, step: Kind, topic: String?, partition: Int32?, offset: Int64?, eventId: String?, outcome: String
  ) {
    self.at = at
    self.step = step
    self.topic = topic
    self.partition = partition
    self.offset = offset
    self.eventId = eventId
    self.outcome = outcome
  }
}
