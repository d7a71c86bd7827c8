/// A right to run that only one instance of a service holds at a time (Docs/storage-engines.md,
/// "Leases"): the outbox relay (order per key) and the stuck-saga sweeper. SQLite databases
/// have one instance by construction and no lease (`SagaDatabase.lease(named:)` is nil).
public protocol DatabaseLease: Sendable {
  var name: String { get }
  /// Takes the lease if it is free; true while this instance holds it.
  func tryAcquire() async -> Bool
  /// Whether the lease is still held (a cheap check; at most one round trip a second). False
  /// also while the holder hands it to a less busy instance: its user finishes the work in
  /// flight and calls ``tryAcquire()``, which lets it go.
  func check() async -> Bool
  /// Gives the lease up (graceful stop), so a standby takes over without waiting.
  func release() async
}
