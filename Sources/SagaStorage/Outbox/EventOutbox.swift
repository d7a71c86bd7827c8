import GRDB
public import SagaCore

/// Saga events into the outbox: the JSON body with the report's field names, keyed by
/// payment id, with the envelope headers.
public enum EventOutbox {
  /// Appends `event` inside the caller's transaction. Returns the outbox row id.
  @discardableResult
  public static func append<E: SagaEvent>(
    _ event: E, envelope: EventEnvelope, in db: some SQLConnection
  ) throws(SagaError) -> Int64 {
    do {
      return try Outbox.append(message(event, envelope), at: envelope.occurredAt, in: db)
    } catch {
      throw SagaError.storage(error)
    }
  }

  /// Appends `event` (under `id` when drawn beforehand: deferred then) and returns its row
  /// as the relay will read it back (``Outbox/appendRecord(_:id:at:in:)``): what the writer
  /// hands the relay after its commit.
  public static func appendRecord<E: SagaEvent>(
    _ event: E, envelope: EventEnvelope, id drawn: Int64? = nil, in db: some SQLConnection
  ) throws(SagaError) -> OutboxRecord {
    do {
      return try Outbox.appendRecord(message(event, envelope), id: drawn, at: envelope.occurredAt, in: db)
    } catch {
      throw SagaError.storage(error)
    }
  }

  private static func message<E: SagaEvent>(_ event: E, _ envelope: EventEnvelope) -> OutboxMessage {
    OutboxMessage(
      topic: E.topic.rawValue, key: event.messageKey, payload: EventCodec.encode(event), headers: envelope.headers)
  }
}

extension SagaError {
  /// A storage failure as a saga error. Busy, I/O, full and read-only storage are
  /// transient (Docs/design.md, "Failure classes": the condition can clear, the message must not be lost);
  /// SQL and constraint errors are bugs, hence permanent.
  public static func storage(_ error: any Error) -> SagaError {
    if let saga = error as? SagaError { return saga }
    if let storage = error as? StorageError {
      let transient = storage.isRetriable || storage.isStorageFault
      return SagaError(
        transient ? (storage.isRetriable ? .databaseBusy : .storageIO) : .internalError, storage.description,
        failureClass: transient ? .transient : .permanent)
    }
    if let database = error as? DatabaseError {
      switch database.resultCode {
      case .SQLITE_BUSY, .SQLITE_LOCKED:
        return SagaError(.databaseBusy, "\(database)", failureClass: .transient)
      case .SQLITE_IOERR, .SQLITE_FULL, .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_NOMEM:
        return SagaError(.storageIO, "\(database)", failureClass: .transient)
      default:
        return SagaError(.internalError, "\(database)", failureClass: .permanent)
      }
    }
    return SagaError(.internalError, "\(error)")
  }
}
