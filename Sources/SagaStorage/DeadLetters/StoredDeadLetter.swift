public import Foundation
public import SagaCore

/// A dead letter as stored (`dlt.sqlite`), with what it says about its failure and what
/// operators did with it.
public struct StoredDeadLetter: Sendable, Hashable, Identifiable {
  public var id: Int64
  /// Where the dead letter itself sits: the `.DLT` topic, partition and offset.
  public var topic: String
  public var partition: Int32
  public var offset: Int64
  public var timestampMilliseconds: Int64?
  /// The failed record's coordinates and group, from the `kafka_dlt-*` headers.
  public var originalTopic: String?
  public var originalPartition: Int32?
  public var originalOffset: Int64?
  public var originalTimestampMilliseconds: Int64?
  public var originalConsumerGroup: String?
  public var key: [UInt8]?
  public var value: [UInt8]?
  /// Every header as received, in order, the `kafka_dlt-*` ones included.
  public var headers: [RecordHeader]
  /// The exception message, or `unknown`.
  public var reason: String
  /// The code leading a sagad reason, e.g. `invalid-json`.
  public var reasonCode: String?
  /// `permanent` or `exhausted` (sagad's `sagad-failure-class`).
  public var failureClass: String?
  public var attempts: Int?
  /// The error's type: `SagaCore.SagaError`, or a Java class name from Spring.
  public var errorType: String?
  /// The failed record's `eventId` header, if it had one.
  public var eventId: String?
  /// When the DLT worker stored it.
  public var firstSeenAt: Date
  public var status: DeadLetterStatus
  public var replayCount: Int
  public var lastReplayedAt: Date?
  public var discardedAt: Date?
  public var discardNote: String?
  /// `outbox:<service>:<row id>` for a dead letter stored from an outbox row that was never
  /// published (too large to send, or discarded by an operator); nil for one read from a
  /// `.DLT` topic. Such a letter has no place in a topic: its partition is -1.
  public var origin: String?

  public init(
    id: Int64, topic: String, partition: Int32, offset: Int64, timestampMilliseconds: Int64?,
    originalTopic: String?, originalPartition: Int32?, originalOffset: Int64?, originalTimestampMilliseconds: Int64?,
    originalConsumerGroup: String?, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader], reason: String,
    reasonCode: String?, failureClass: String?, attempts: Int?, errorType: String?, eventId: String?,
    firstSeenAt: Date, status: DeadLetterStatus, replayCount: Int, lastReplayedAt: Date?, discardedAt: Date?,
    discardNote: String?, origin: String? = nil
  ) {
    self.id = id
    self.topic = topic
    self.partition = partition
    self.offset = offset
    self.timestampMilliseconds = timestampMilliseconds
    self.originalTopic = originalTopic
    self.originalPartition = originalPartition
    self.originalOffset = originalOffset
    self.originalTimestampMilliseconds = originalTimestampMilliseconds
    self.originalConsumerGroup = originalConsumerGroup
    self.key = key
    self.value = value
    self.headers = headers
    self.reason = reason
    self.reasonCode = reasonCode
    self.failureClass = failureClass
    self.attempts = attempts
    self.errorType = errorType
    self.eventId = eventId
    self.firstSeenAt = firstSeenAt
    self.status = status
    self.replayCount = replayCount
    self.lastReplayedAt = lastReplayedAt
    self.discardedAt = discardedAt
    self.discardNote = discardNote
    self.origin = origin
  }

  /// `reservation-completed.DLT[0]@4`, or where a letter stored locally came from.
  public var coordinates: String { origin.map { "\(topic) (\($0))" } ?? "\(topic)[\(partition)]@\(offset)" }

  /// `reservation-completed[2]@17`, or nil when the headers do not say.
  public var originalCoordinates: String? {
    guard let originalTopic, let originalPartition, let originalOffset else { return nil }
    return "\(originalTopic)[\(originalPartition)]@\(originalOffset)"
  }

  /// Where a replay goes: the original topic, or the DLT topic without `.DLT` when the
  /// record does not name it.
  public var replayTopic: String {
    if let originalTopic { return originalTopic }
    guard topic.hasSuffix(SagaTopic.deadLetterSuffix) else { return topic }
    return String(topic.dropLast(SagaTopic.deadLetterSuffix.count))
  }

  /// The `sagad-replay-of` a replay carries: the original `eventId`; else the replay-of
  /// of a replayed message that failed again (same original); else `offset:` and the
  /// original coordinates (the DLT record's when the headers do not give them). The
  /// consumers' inbox keys a message without `eventId` on it, so every replay of one
  /// dead letter is recognised as the same message.
  public var replayOf: String {
    if let eventId, !eventId.isEmpty { return UUID(canonicalText: eventId)?.lowercasedText ?? eventId }
    if let previous = headers.last(named: HeaderName.replayOf)?.text, !previous.isEmpty { return previous }
    return "offset:\(originalCoordinates ?? coordinates)"
  }

  /// The headers a replay carries: the original ones, without the dead-letter bookkeeping
  /// (`kafka_dlt-*`, `sagad-attempts`, `sagad-failure-class`, an older replay-of), plus
  /// `sagad-replay-of`.
  public var replayHeaders: [RecordHeader] {
    let dropped: Set<String> = [
      HeaderName.attempts, HeaderName.failureClass, HeaderName.replayOf, HeaderName.unsent,
    ]
    let kept = headers.filter { !$0.name.hasPrefix(HeaderName.DeadLetter.prefix) && !dropped.contains($0.name) }
    return kept + [RecordHeader(name: HeaderName.replayOf, value: replayOf)]
  }
}
