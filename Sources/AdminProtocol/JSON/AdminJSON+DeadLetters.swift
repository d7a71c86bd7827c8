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
    @Nullable public var originalTopic: String?
    @Nullable public var originalPartition: Int32?
    @Nullable public var originalOffset: Int64?
    public var reason: String
    @Nullable public var reasonCode: String?
    /// `permanent` or `exhausted` (sagad's dead letters), else null.
    @Nullable public var failureClass: String?
    @Nullable public var attempts: Int?
    public var firstSeenAt: String
    public var replayCount: Int
    /// `outbox:<service>:<row id>` for a dead letter kept from an outbox row that was never
    /// published (partition -1); null for one read from a `.DLT` topic.
    @Nullable public var origin: String?

    public init(
      id: Int64, status: String, topic: String, partition: Int32, offset: Int64, originalTopic: String?,
      originalPartition: Int32?, originalOffset: Int64?, reason: String, reasonCode: String?, failureClass: String?,
      attempts: Int?, firstSeenAt: String, replayCount: Int, origin: String? = nil
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
      self.origin = origin
    }
  }

  /// `dlt list`: the matching dead letters in id order; `nextAfter` is the `--after` of
  /// the next page, null on the last one.
  public struct DeadLetters: Codable, Sendable, Hashable {
    public var deadLetters: [DeadLetterSummary]
    @Nullable public var nextAfter: Int64?
    public init(deadLetters: [DeadLetterSummary], nextAfter: Int64?) {
      self.deadLetters = deadLetters
      self.nextAfter = nextAfter
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
    @Nullable public var originalTimestamp: String?
    @Nullable public var originalConsumerGroup: String?
    @Nullable public var errorType: String?
    @Nullable public var eventId: String?
    /// The key and value as UTF-8 text; null when absent or not text (`valueBytes` tells).
    @Nullable public var key: String?
    @Nullable public var value: String?
    @Nullable public var valueBytes: Int?
    public var headers: [DeadLetterHeader]
    /// Where a replay goes, and the `sagad-replay-of` it carries.
    public var replayTopic: String
    public var replayOf: String
    @Nullable public var lastReplayedAt: String?
    @Nullable public var discardedAt: String?
    @Nullable public var discardNote: String?

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

    // Flat: the summary's fields sit beside the others, as in `dlt list`'s rows. That is
    // the one reason for hand-written coding here; `Nullable` still writes the nulls.
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
      try container.encode(_originalTimestamp, forKey: .originalTimestamp)
      try container.encode(_originalConsumerGroup, forKey: .originalConsumerGroup)
      try container.encode(_errorType, forKey: .errorType)
      try container.encode(_eventId, forKey: .eventId)
      try container.encode(_key, forKey: .key)
      try container.encode(_value, forKey: .value)
      try container.encode(_valueBytes, forKey: .valueBytes)
      try container.encode(headers, forKey: .headers)
      try container.encode(replayTopic, forKey: .replayTopic)
      try container.encode(replayOf, forKey: .replayOf)
      try container.encode(_lastReplayedAt, forKey: .lastReplayedAt)
      try container.encode(_discardedAt, forKey: .discardedAt)
      try container.encode(_discardNote, forKey: .discardNote)
    }
  }

  /// `dlt replay`: what was sent (or, with `dryRun`, would be), one entry per dead letter.
  public struct DeadLetterReplay: Codable, Sendable, Hashable {
    public struct Entry: Codable, Sendable, Hashable {
      public var id: Int64
      public var topic: String
      @Nullable public var key: String?
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
    }
    public var dryRun: Bool
    public var replayed: Int
    public var failed: Int
    public var alreadyReplayed: Int
    @Nullable public var error: String?
    public var entries: [Entry]

    public init(dryRun: Bool, replayed: Int, failed: Int, alreadyReplayed: Int, error: String?, entries: [Entry]) {
      self.dryRun = dryRun
      self.replayed = replayed
      self.failed = failed
      self.alreadyReplayed = alreadyReplayed
      self.error = error
      self.entries = entries
    }
  }
}
