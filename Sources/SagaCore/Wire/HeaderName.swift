/// Every message header name sagad writes or reads, in one place so that producers,
/// consumers, the DLT worker and `sagactl` cannot drift apart (Docs/event-catalog.md).
public enum HeaderName {
  /// A UUID unique per produced message; the inbox deduplicates on it.
  public static let eventId = "eventId"
  /// `EventType` raw value, e.g. `ReservationCompleted`.
  public static let eventType = "eventType"
  /// The body's schema version, e.g. `1.0`.
  public static let eventVersion = "eventVersion"
  /// W3C trace context (`00-<trace>-<span>-<flags>`), carried through the whole saga.
  public static let traceparent = "traceparent"
  /// The saga's correlation id (its trace id unless a caller gave one); on every log line.
  public static let correlationId = "correlationId"
  /// Who wrote the message: `sagad/payments` or `sagad/points`.
  public static let producer = "producer"
  /// When the event happened, RFC 3339 UTC with milliseconds.
  public static let occurredAt = "occurredAt"

  /// The envelope headers, in the order every produced message carries them.
  public static let envelope: [String] = [
    eventId, eventType, eventVersion, traceparent, correlationId, producer, occurredAt,
  ]

  /// Set by the stuck-saga sweeper on a re-announced event: how many times (1, 2, …).
  public static let republished = "sagad-republished"
  /// Set on a message replayed from the DLT store: the `eventId` of the original.
  public static let replayOf = "sagad-replay-of"
  /// On a dead letter: how many processing attempts were made.
  public static let attempts = "sagad-attempts"
  /// On a dead letter: `permanent` (never retriable) or `exhausted` (ran out of retries).
  public static let failureClass = "sagad-failure-class"
  /// On a dead letter stored locally from an outbox row instead of published: why the row
  /// was not sent (the producer's refusal, or the operator's discard).
  public static let unsent = "sagad-unsent"

  /// Spring Kafka's type hint: `JsonSerializer` writes the Java class name here and the
  /// report's `JsonDeserializer` needs it. sagad writes it on every saga event
  /// (``SpringTypeIds``) and ignores it on what it reads.
  public static let springTypeId = "__TypeId__"

  /// The headers Spring's `DeadLetterPublishingRecoverer` adds to a dead letter; sagad writes
  /// the same names, encoded the same way (`DeadLetter.deadLetterHeaders`), so existing
  /// Spring DLT tooling can read sagad's dead letters.
  public enum DeadLetter {
    public static let prefix = "kafka_dlt-"
    public static let originalTopic = "kafka_dlt-original-topic"
    public static let originalPartition = "kafka_dlt-original-partition"
    public static let originalOffset = "kafka_dlt-original-offset"
    public static let originalTimestamp = "kafka_dlt-original-timestamp"
    public static let originalTimestampType = "kafka_dlt-original-timestamp-type"
    public static let originalConsumerGroup = "kafka_dlt-original-consumer-group"
    /// The error type's fully qualified name (ours: `SagaCore.SagaError`).
    public static let exceptionFqcn = "kafka_dlt-exception-fqcn"
    /// The error's message (ours: `SagaError.description`, code first).
    public static let exceptionMessage = "kafka_dlt-exception-message"
    /// Spring: the Java stack trace. Ours: its first line, `SagaCore.SagaError: <message>`.
    public static let exceptionStacktrace = "kafka_dlt-exception-stacktrace"
    /// Spring: the class of the exception's cause, when it has one (a `SagaError` has none).
    public static let exceptionCauseFqcn = "kafka_dlt-exception-cause-fqcn"
    /// The headers every dead letter must carry (Docs/event-catalog.md), in the order sagad writes them.
    public static let required: [String] = [
      originalTopic, originalPartition, originalOffset, originalTimestamp, originalConsumerGroup,
      exceptionFqcn, exceptionMessage,
    ]
  }
}
