public import SagaCore
public import SagaStorage

/// What a service plugs into the consume loop: one method applied to each record
/// inside the worker's write transaction (a savepoint of it), after the inbox has ruled
/// out a redelivery. The loop commits the transaction, then the Kafka offsets.
///
/// Throwing a permanent `SagaError` rolls the savepoint back and dead-letters the record
/// at once (never retried, the partition moves on); a transient one rolls back and the
/// record is retried per the worker's `RetryPolicy`, then dead-lettered as `exhausted`.
/// Anything the handler wants to publish goes through `context.emit`, which writes to the
/// outbox in the same transaction.
public protocol SagaMessageHandler: Sendable {
  /// The consumer group (and so the topics) this handler serves.
  var consumerGroup: SagaConsumerGroup { get }

  func handle(_ message: InboundMessage, context: MessageContext, in db: any SQLConnection) throws(SagaError)

  /// Called once per batch, in its transaction, before any of `messages` is handled. A
  /// handler whose records write rows that records of other partitions write too (an account
  /// per user) locks those rows here, in one order: instances sharing a PostgreSQL database
  /// then wait for each other's batches instead of deadlocking, which PostgreSQL resolves only
  /// after `deadlock_timeout` (a second by default) by failing one of them. The default does
  /// nothing; so does SQLite's single writer.
  ///
  /// In a batch run without savepoints the lock is taken after ``prefetch(_:in:)``'s read, so
  /// that another instance's batch of the same rows waits only for this one's writes and
  /// commit: what was prefetched may miss that instance's last commit. A handler decides from
  /// it only what such a commit cannot make wrong, or what the database refuses at the write
  /// (a unique key, a range), which sends the batch to the isolated run; that run locks first
  /// and reads under the lock (Docs/storage-engines.md, "Several instances per role").
  func lockShared(_ messages: [InboundMessage], in db: any SQLConnection) throws(SagaError)

  /// Called once per batch run without savepoints, right behind its inbox claims (sent ahead
  /// of it: one wait for both on PostgreSQL), with all the batch's records, the redelivered
  /// ones too (their reads go unused): reads in one statement what they decide from, where a
  /// statement costs a round trip (PostgreSQL), for `handle` to find in
  /// `context.batch?.prefetched`. Only a
  /// record that is the first of its key in the batch may use it (`context.firstInBatch`): a
  /// later one must see what the earlier one wrote. The default reads nothing.
  func prefetch(_ messages: [InboundMessage], in db: any SQLConnection) throws(SagaError) -> (any Sendable)?

  /// Whether the batch `messages` may be written as one statement, with no transaction and no
  /// lock (PostgreSQL, `SagaDatabase.writeInOneStatement`; Docs/storage-engines.md, "Round
  /// trips"): its reads (the claims' and ``prefetch(_:in:)``'s) are statements on their own, its
  /// writes all held and sent together at the end. Only for a handler whose writes hold only
  /// while what it read still holds: a unique key, a compare-and-set refused by a `CHECK`, a
  /// change relative to the row's value; one that a concurrent commit makes wrong fails the
  /// statement, nothing of it written, and the batch runs again as a transaction. So does a
  /// record that must read after the batch's writes (the second of its key): a handler says no
  /// to a batch it knows will. ``lockShared(_:in:)`` is not called for such a batch. The default
  /// is false.
  func writesInOneStatement(_ messages: [InboundMessage]) -> Bool

  /// Called once when the loop dead-letters `message`, in the transaction (a savepoint of
  /// it) that writes the dead letter to the outbox, after `attempts` runs ended in `error`
  /// (transient for an exhausted retry, permanent otherwise). A service that must still
  /// decide the saga (Points: fail the reward and ask for compensation) does it here; the
  /// default does nothing. Throwing rolls back the dead letter too: a transient error
  /// retries the dead-lettering later, a permanent one dead-letters without the hook.
  func deadLettered(
    _ message: InboundMessage, error: SagaError, attempts: Int, context: MessageContext, in db: any SQLConnection
  ) throws(SagaError)
}

extension SagaMessageHandler {
  public func lockShared(_ messages: [InboundMessage], in db: any SQLConnection) throws(SagaError) {}

  public func prefetch(_ messages: [InboundMessage], in db: any SQLConnection) throws(SagaError) -> (any Sendable)? {
    nil
  }

  public func writesInOneStatement(_ messages: [InboundMessage]) -> Bool { false }

  public func deadLettered(
    _ message: InboundMessage, error: SagaError, attempts: Int, context: MessageContext, in db: any SQLConnection
  ) throws(SagaError) {}
}
