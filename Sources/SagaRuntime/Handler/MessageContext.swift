public import Foundation
public import SagaCore
public import SagaStorage

/// Per-record context handed to a `SagaMessageHandler`.
public struct MessageContext: Sendable {
  /// The headers of the record being handled (trace, correlation id, …).
  public let envelope: ReceivedEnvelope
  /// The service that handles it; outgoing events carry its producer name.
  public let service: SagaService
  /// The handler's clock reading for this record (one per batch is fine).
  public let now: Date
  /// The worker's transaction's after-commit work; nil runs `onCommit` actions at once.
  /// `emit` notes in it that the transaction wrote outbox rows (the relay is woken for those).
  public let afterCommit: CommitActions?
  /// With tracing on, the context of the span handling the record: what the events it
  /// emits carry, so that their send spans are its children. Nil: each event gets a child
  /// of the record's own `traceparent` (Docs/tracing.md).
  public let trace: TraceContext?
  /// What earlier records of the batch touched, in a batch run without savepoints; nil
  /// otherwise (then nothing may ride beside a read).
  public let batch: BatchMemory?

  public init(
    envelope: ReceivedEnvelope, service: SagaService, now: Date = Date(), afterCommit: CommitActions? = nil,
    trace: TraceContext? = nil, batch: BatchMemory? = nil
  ) {
    self.envelope = envelope
    self.service = service
    self.now = now
    self.afterCommit = afterCommit
    self.trace = trace
    self.batch = batch
  }

  /// Whether no earlier record of this batch touched `key` (noting that this one does):
  /// false outside a batch run without savepoints.
  public func firstInBatch(_ key: String) -> Bool {
    batch?.touchFirst(key) ?? false
  }

  /// Runs `action` once the transaction this record is handled in has committed; for
  /// observations (metrics) that a rolled-back and retried batch must not repeat.
  public func onCommit(_ action: @escaping @Sendable () -> Void) {
    CommitActions.schedule(action, on: afterCommit)
  }

  /// Writes `event` to the outbox in the current transaction, continuing the record's
  /// trace and correlation id. Returns the outbox row id.
  @discardableResult
  public func emit<E: SagaEvent>(
    _ event: E, extraHeaders: [RecordHeader] = [], in db: any SQLConnection
  ) throws(SagaError) -> Int64 {
    let record = try EventOutbox.appendRecord(event, envelope: envelope(for: E.self, extraHeaders), in: db)
    afterCommit?.noteOutboxWrite(record)
    return record.id
  }

  /// `emit` under an outbox id drawn beforehand (`nextval`, PostgreSQL): the insert needs no
  /// answer, so it is deferred and rides with the connection's next statement.
  public func emit<E: SagaEvent>(
    _ event: E, id: Int64, extraHeaders: [RecordHeader] = [], in db: any SQLConnection
  ) throws(SagaError) {
    let record = try EventOutbox.appendRecord(event, envelope: envelope(for: E.self, extraHeaders), id: id, in: db)
    afterCommit?.noteOutboxWrite(record)
  }

  private func envelope<E: SagaEvent>(for type: E.Type, _ extraHeaders: [RecordHeader]) -> EventEnvelope {
    var envelope = EventEnvelope(
      following: self.envelope, eventType: E.eventType, producer: service.producerName, occurredAt: now)
    if let trace {
      envelope.trace = trace
      // A record without a correlation id started a trace here: its id is the saga's.
      if self.envelope.correlationId == nil { envelope.correlationId = trace.traceId }
    }
    envelope.extraHeaders = extraHeaders
    return envelope
  }
}
