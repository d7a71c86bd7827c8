public import Payments
public import Points
public import SagaCore
public import SagaRuntime
public import SagaStorage

/// What one sagad process runs (Docs/architecture.md, "Parts"): which services, where their
/// databases live, which brokers they talk to, and how they batch and retry. The
/// daemon's configuration file fills this in.
///
/// What every role shares is `runtime`, whose fields read and write as this configuration's
/// own (`configuration.retry`, `configuration.consume.batchMax`); the rest is the services'.
@dynamicMemberLookup
public struct SagaNodeConfiguration: Sendable {
  /// The services a process can host; both by default, one each when Payments and
  /// Points run on different hosts against one cluster.
  public enum Role: String, CaseIterable, Sendable, Hashable {
    case payments
    case points
  }

  public var roles: Set<Role> = [.payments, .points]
  /// Brokers, Kafka clients, storage, batching, retries, dead letters, supervision.
  public var runtime: RuntimeSettings
  /// Whether concurrent `pay` requests share one write transaction (`payments.group_commit`);
  /// off, every `pay` is its own transaction and fsync (the benchmarks' baseline).
  public var payGroupCommit = true
  /// Under load, the least time between the starts of two `pay` groups
  /// (`payments.group_commit_window`); nil: the engine's default (3 ms on SQLite, 8 ms on
  /// PostgreSQL).
  public var payGroupCommitWindow: Duration?
  /// The stuck-saga sweeper of the payments role (`sweeper.*`).
  public var sweeper = SweeperSettings()
  public var rewardRule = RewardRule.standard
  /// What runs Points when this node runs Payments (`peers.points`): toward a peer without
  /// idempotency the sweeper reports stuck sagas instead of re-announcing them.
  public var pointsPeer = PeerKind.sagad
  /// What runs Payments when this node runs Points (`peers.payments`): toward a peer
  /// without idempotency a duplicate does not send `CompensatePayment` again.
  public var paymentsPeer = PeerKind.sagad
  /// Where the services keep their state (`storage.engine`): nil, SQLite files in the state
  /// directory; else one PostgreSQL database shared by every instance (Docs/storage-engines.md).
  public var postgres: PostgresStorageConfiguration?

  /// - Parameters:
  ///   - stateDirectory: holds `payments.sqlite`, `points.sqlite` and `dlt.sqlite`.
  ///   - bootstrapServers: `host:port,…` of the Kafka bootstrap brokers.
  public init(stateDirectory: String, bootstrapServers: String) {
    runtime = RuntimeSettings(stateDirectory: stateDirectory, bootstrapServers: bootstrapServers)
  }

  public subscript<Value>(dynamicMember keyPath: WritableKeyPath<RuntimeSettings, Value>) -> Value {
    get { runtime[keyPath: keyPath] }
    set { runtime[keyPath: keyPath] = newValue }
  }

  public subscript<Value>(dynamicMember keyPath: KeyPath<RuntimeSettings, Value>) -> Value {
    runtime[keyPath: keyPath]
  }

  public var paymentsDatabasePath: String { runtime.stateDirectory + "/payments.sqlite" }
  public var pointsDatabasePath: String { runtime.stateDirectory + "/points.sqlite" }

  /// The Payments role's share of this configuration.
  public var payments: PaymentsRole.Settings {
    var settings = PaymentsRole.Settings(databasePath: paymentsDatabasePath)
    settings.groupCommit = payGroupCommit
    settings.groupCommitWindow = payGroupCommitWindow
    settings.sweeper = sweeper
    settings.pointsPeer = pointsPeer
    return settings
  }

  /// The Points role's share of this configuration.
  public var points: PointsRole.Settings {
    var settings = PointsRole.Settings(databasePath: pointsDatabasePath)
    settings.rewardRule = rewardRule
    settings.paymentsPeer = paymentsPeer
    return settings
  }
}
