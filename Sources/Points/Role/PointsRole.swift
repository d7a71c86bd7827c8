public import SagaCore
public import SagaRuntime
public import SagaStorage

/// The Points role of a node, assembled from the runtime's factories: its database, the
/// `points` relay, the `points` worker (group `points-service`) and the
/// `points-service-dlt` dead letters.
public struct PointsRole: Sendable {
  /// What the Points role needs beyond the runtime's settings.
  public struct Settings: Sendable {
    /// The database file (`<state_dir>/points.sqlite`).
    public var databasePath: String
    /// How much a payment earns (`reward.*`).
    public var rewardRule = RewardRule.standard
    /// What runs Payments (`peers.payments`): toward a peer without idempotency a duplicate
    /// does not send `CompensatePayment` again.
    public var paymentsPeer = PeerKind.sagad

    public init(databasePath: String) {
      self.databasePath = databasePath
    }
  }

  public let service: PointsService
  public let parts: RoleParts

  /// Creates the role's relay and worker on `database` (opened by the composition root; nil:
  /// the SQLite file `settings.databasePath`), which count rewards and their latency
  /// (`RewardTimingHandler`) into `factory.metrics`.
  /// - Throws: `StorageError` when the database cannot be opened, `KafkaError` for a client.
  public init(settings: Settings, database: PointsDatabase? = nil, factory: RuntimeFactory) throws {
    let database = try database ?? PointsDatabase(factory.openDatabase(path: settings.databasePath))
    service = PointsService(database: database)
    let relay = try factory.relay("points", database: database.storage, timelineTables: [PointsDatabase.timelineTable])
    let handler = ReservationCompletedHandler(
      rule: settings.rewardRule, paymentsPeer: settings.paymentsPeer, failpoints: factory.failpoints,
      metrics: RewardMetrics(factory: factory.metrics))
    let worker = try factory.worker(
      "points", handler: RewardTimingHandler(inner: handler), service: .points, database: database.storage,
      relay: relay)
    parts = RoleParts(relays: [relay], workers: [worker], deadLetterGroups: [.pointsServiceDeadLetters])
  }
}
