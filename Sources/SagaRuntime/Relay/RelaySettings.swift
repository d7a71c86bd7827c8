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
  /// Whether the relay publishes the rows its service's writers hand it after their commit
  /// instead of reading them back (`outbox.handoff`, ``OutboxHandoff``). Off, it reads after
  /// every commit: for an outbox that something besides sagad writes or changes (a trigger).
  public var handoff = true
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
  /// How often, with rounds in flight, the relay also reads from the oldest unsent row
  /// instead of only above the last row in flight; nil: the engine's
  /// (``stragglerInterval(for:)``).
  public var stragglerInterval: Duration?

  /// Several transactions write the outbox at once on PostgreSQL (consume workers, pay
  /// groups, a second instance), each with ids drawn from the sequence: a row can commit
  /// below ids already handed to the producer, and under steady load the pipeline never
  /// drains, so without this scan such a row would wait for the load to end. SQLite has one
  /// writer and assigns ids inside it, so its rows commit in id order and there is nothing
  /// to find: the scan re-read every row in flight, ~0.5 rows per saga at full speed. With two
  /// instances per role one's rows keep committing below the other's in flight: 20 ms rather
  /// than 100 took the saga's p99 at 1,000/s from 131–136 to 94–112 ms (Docs/benchmarks.md; a
  /// scan costs the server ~0.3 ms). While the relay hears the other instances' announcements,
  /// which name their rows, it scans once a second instead (`OutboxRelay.listeningScanInterval`).
  public static func stragglerInterval(for engine: SQLEngine) -> Duration? {
    switch engine {
    case .sqlite: nil
    case .postgres: .milliseconds(20)
    }
  }

  public init() {}
}
