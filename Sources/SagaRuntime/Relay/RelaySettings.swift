public import SagaCore
public import SagaStorage

/// How an outbox relay publishes (Docs/design.md, "Outbox relay").
public struct RelaySettings: Sendable, Equatable {
  /// Rows read and handed to the producer per round.
  public var batchMax = 1_000
  /// How long the relay sleeps when nobody wakes it: a safety net only, since every
  /// commit that writes outbox rows wakes it at once.
  public var idleInterval: Duration = .seconds(1)
  /// Whether commits that write outbox rows wake the relay (`outbox.wake_on_commit`).
  /// Off, the relay polls: every `idleInterval` it publishes what is pending, one
  /// unpipelined round after another, then sleeps again — the report's design, kept
  /// as the benchmarks' baseline.
  public var wakeOnCommit = true
  /// First back-off after a round in which some rows were not persisted; doubles up
  /// to `maxBackoff`, so a dead broker is retried without a busy loop.
  public var initialBackoff: Duration = .milliseconds(100)
  public var maxBackoff: Duration = .seconds(5)
  /// Sent rows and inbox entries older than this are purged.
  public var retention = RetentionPolicy()
  /// How often the purge runs.
  public var purgeInterval: Duration = .seconds(60)
  /// The `__TypeId__` written on every saga event (`spring.type_*`), for Spring consumers.
  public var typeIds = SpringTypeIds.standard

  public init() {}
}
