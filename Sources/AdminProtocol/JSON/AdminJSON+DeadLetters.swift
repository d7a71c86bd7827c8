// The `dlt list|show|replay|discard` documents. Times are RFC 3339 strings (UTC, ms).
extension AdminJSON {
  /// One row of `dlt list`.
  public struct DeadLetterSummary: Codable, Sendable, Hashable {
    public var id: Int64
    /// `pending`, `replayed` or `discarded`.
    public var status: String
    /// The `.DLT` topic and the record's place in it.
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var originalTopic: String?
    public var originalPartition: Int32?
    public var originalOffset: Int64?
    public var reason: String
    public var reasonCode: String?
    /// `permanent` or `exhausted` (sagad's dead letters), else null.
    public var failureClass: String?
    public var attempts: Int?
    public var firstSeenAt: String
    public var replayCount: Int

    public init(
      id: Int64, status: String, topic: String, partition: Int32, offset: Int64, originalTopic: String?,
      originalPartition: Int32?, originalOffset: Int64?, reason: String, reasonCode: String?, failureClass: String?,
      attempts: Int?, firstSeenAt: String, replayCount: Int
    ) {
      self.id = id
      self.status = status
      self.topic = topic
      self.partition = partition
      self.offset = offset
      self.originalTopic = originalTopic
      self.originalPartition = originalPartition
      self.originalOffset = originalOffset
      self.reason = reason
      self.reasonCode = reasonCode
      self.failureClass = failureClass
      self.attempts = attempts
      self.firstSeenAt = firstSeenAt
      self.replayCount = replayCount
    }

    public func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(id, forKey: .id)
      try container.encode(status, forKey: .status)
      try container.encode(topic, forKey: .topic)
      try container.encode(partition, forKey: .partition)
      try container.encode(offset, forKey: .offset)
      try container.encodeNullable(originalTopic, forKey: .originalTopic)
      try container.encodeNullable(originalPartition, forKey: .originalPartition)
      try container.encodeNullable(originalOffset, forKey: .originalOffset)
      try container.encode(reason, forKey: .reason)
      try container.encodeNullable(reasonCode, forKey: .reasonCode)
      try container.encodeNullable(failureClass, forKey: .failureClass)
      try container.encodeNullable(attempts, forKey: .attempts)
      try container.encode(firstSeenAt, forKey: .firstSeenAt)
      try container.encode(replayCount, forKey: .replayCount)
    }
  }

  /// `dlt list`: the matching dead letters in id order; `nextAfter` is the `--after` of
  /// the next page, null on the last one.
  public struct DeadLetters: Codable, Sendable, Hashable {
    public var deadLetters: [DeadLetterSummary]
    public var nextAfter: Int64?
    public init(deadLetters: [DeadLetterSummary], nextAfter: Int64?) {
      self.deadLetters = deadLetters
      self.nextAfter = nextAfter
    }
    public func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(deadLetters, forKey: .deadLetters)
      try container.encodeNullable(nextAfter, forKey: .nextAfter)
    }
  }

  /// One header of a dead letter: its text, `<n bytes: hex>` for binary, `<null>` for none.
  public struct DeadLetterHeader: Codable, Sendable, Hashable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
      self.name = name
      self.value = value
    }
  }

  /// `dlt show` and `dlt discard`: one dead letter with its message and history.
  public struct DeadLetter: Codable, Sendable, Hashable {
    public var summary: DeadLetterSummary
    public var originalTimestamp: String?
    public var originalConsumerGroup: String?
    public var errorType: String?
    public var eventId: String?
    /// The key and value as UTF-8 text; null when absent or not text (`valueBytes` tells).
    public var key: String?
    public var value: String?
    public var valueBytes: Int?
    public var headers: [DeadLetterHeader]
    /// Where a replay goes, and the `sagad-replay-of` it carries.
    public var replayTopic: String
    public var replayOf: String
    public var lastReplayedAt: String?
    public var discardedAt: String?
    public var discardNote: String?

    public init(
      summary: DeadLetterSummary, originalTimestamp: String?, originalConsumerGroup: String?, errorType: String?,
      eventId: String?, key: String?, value: String?, valueBytes: Int?, headers: [DeadLetterHeader],
      replayTopic: String, replayOf: String, lastReplayedAt: String?, discardedAt: String?, discardNote: String?
    ) {
      self.summary = summary
      self.originalTimestamp = originalTimestamp
      self.originalConsumerGroup = originalConsumerGroup
      self.errorType = errorType
      self.eventId = eventId
      self.key = key
      self.value = value
      self.valueBytes = valueBytes
      self.headers = headers
      self.replayTopic = replayTopic
      self.replayOf = replayOf
      self.lastReplayedAt = lastReplayedAt
      self.discardedAt = discardedAt
      self.discardNote = discardNote
    }

    // Flat: the summary's fields sit beside the others, as in `dlt list`'s rows.
    private enum CodingKeys: String, CodingKey {
      case originalTimestamp, originalConsumerGroup, errorType, eventId, key, value, valueBytes, headers
      case replayTopic, replayOf, lastReplayedAt, discardedAt, discardNote
    }

    public init(from decoder: any Decoder) throws {
      summary = try DeadLetterSummary(from: decoder)
      let container = try decoder.container(keyedBy: CodingKeys.self)
      originalTimestamp = try container.decodeIfPresent(String.self, forKey: .originalTimestamp)
      originalConsumerGroup = try container.decodeIfPresent(String.self, forKey: .originalConsumerGroup)
      errorType = try container.decodeIfPresent(String.self, forKey: .errorType)
      eventId = try container.decodeIfPresent(String.self, forKey: .eventId)
      key = try container.decodeIfPresent(String.self, forKey: .key)
      value = try container.decodeIfPresent(String.self, forKey: .value)
      valueBytes = try container.decodeIfPresent(Int.self, forKey: .valueBytes)
      headers = try container.decode([DeadLetterHeader].self, forKey: .headers)
      replayTopic = try container.decode(String.self, forKey: .replayTopic)
      replayOf = try container.decode(String.self, forKey: .replayOf)
      lastReplayedAt = try container.decodeIfPresent(String.self, forKey: .lastReplayedAt)
      discardedAt = try container.decodeIfPresent(String.self, forKey: .discardedAt)
      discardNote = try container.decodeIfPresent(String.self, forKey: .discardNote)
    }

    public func encode(to encoder: any Encoder) throws {
      try summary.encode(to: encoder)
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encodeNullable(originalTimestamp, forKey: .originalTimestamp)
      try container.encodeNullable(originalConsumerGroup, forKey: .originalConsumerGroup)
      try container.encodeNullable(errorType, forKey: .errorType)
      try container.encodeNullable(eventId, forKey: .eventId)
      try container.encodeNullable(key, forKey: .key)
      try container.encodeNullable(value, forKey: .value)
      try container.encodeNullable(valueBytes, forKey: .valueBytes)
      try container.encode(headers, forKey: .headers)
      try container.encode(replayTopic, forKey: .replayTopic)
      try container.encode(replayOf, forKey: .replayOf)
      try container.encodeNullable(lastReplayedAt, forKey: .lastReplayedAt)
      try container.encodeNullable(discardedAt, forKey: .discardedAt)
      try container.encodeNullable(discardNote, forKey: .discardNote)
    }
  }

  /// `dlt replay`: what was sent (or, with `dryRun`, would be), one entry per dead letter.
  public struct DeadLetterReplay: Codable, Sendable, Hashable {
    public struct Entry: Codable, Sendable, Hashable {
      public var id: Int64
      public var topic: String
      public var key: String?
      public var replayOf: String
      /// Replays confirmed before this one: above zero, the inbox makes this one a no-op
      /// if an earlier replay was processed.
      public var previousReplays: Int
      /// `would-replay`, `replayed`, `failed` or `not-attempted`.
      public var outcome: String
      public init(id: Int64, topic: String, key: String?, replayOf: String, previousReplays: Int, outcome: String) {
        self.id = id
        self.topic = topic
        self.key = key
        self.replayOf = replayOf
        self.previousReplays = previousReplays
        self.outcome = outcome
      }
      public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(topic, forKey: .topic)
        try container.encodeNullable(key, forKey: .key)
        try container.encode(replayOf, forKey: .replayOf)
        try container.encode(previousReplays, forKey: .previousReplays)
        try container.encode(outcome, forKey: .outcome)
      }
    }
    public var dryRun: Bool
    public var replayed: Int
    public var failed: Int
    public var alreadyReplayed: Int
    public var error: String?
    public var entries: [Entry]

    public init(dryRun: Bool, replayed: Int, failed: Int, alreadyReplayed: Int, error: String?, entries: [Entry]) {
      self.dryRun = dryRun
      self.replayed = replayed
      self.failed = failed
      self.alreadyReplayed = alreadyReplayed
      self.error = error
      self.entries = entries
    }
    public func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(dryRun, forKey: .dryRun)
      try container.encode(replayed, forKey: .replayed)
      try container.encode(failed, forKey: .failed)
      try container.encode(alreadyReplayed, forKey: .alreadyReplayed)
      try container.encodeNullable(error, forKey: .error)
      try container.encode(entries, forKey: .entries)
    }
  }
}
