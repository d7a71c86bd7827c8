public import SagaCore
public import SagaRuntime
public import SagaStorage

/// The Payments role of a node, assembled from the runtime's factories: its database, the
/// `payments` relay, the `payments-saga-tracker` and `payment-compensation` workers, the
/// stuck-saga sweeper, and the `sagad-dlt` dead letters. The composition root wires roles;
/// which handlers a role runs, and on which database, is the service's own business.
public struct PaymentsRole: Sendable {
  /// What the Payments role needs beyond the runtime's settings.
  public struct Settings: Sendable {
    /// The database file (`<state_dir>/payments.sqlite`).
    public var databasePath: String
    /// Whether concurrent `pay` requests share one write transaction (`payments.group_commit`).
    public var groupCommit = true
    /// Under load, the least time between the starts of two `pay` groups
    /// (`payments.group_commit_window`); nil: ``PaymentsService/defaultGroupWindow(for:)`` of
    /// the database's engine.
    public var groupCommitWindow: Duration?
    /// The stuck-saga sweeper (`sweeper.*`).
    public var sweeper = SweeperSettings()
    /// What runs Points (`peers.points`): toward a peer without idempotency the sweeper
    /// reports stuck sagas instead of re-announcing them.
    public var pointsPeer = PeerKind.sagad

    public init(databasePath: String) {
      self.databasePath = databasePath
    }
  }

  public let service: PaymentsService
  public let sweeper: StuckSagaSweeper
  public let parts: RoleParts

  /// Opens the database and creates the role's relay, workers and sweeper, which count
  /// their payments and compensations into `factory.metrics`.
  /// - Throws: `StorageError` when the database cannot be opened, `KafkaError` for a client.
  /// - Parameter database: opened by the composition root (PostgreSQL); nil: the SQLite file
  ///   `settings.databasePath`.
  public init(settings: Settings, database: PaymentsDatabase? = nil, factory: RuntimeFactory) throws {
    let metrics = PaymentsMetrics(factory: factory.metrics)
    let database = try database ?? PaymentsDatabase(factory.openDatabase(path: settings.databasePath))
    let relay = try factory.relay(
      "payments", database: database.storage, timelineTables: [PaymentsDatabase.timelineTable])
    // Once per committed pay group, so ReservationCompleted leaves at once rather than
    // at the relay's next idle check, whoever called pay (this node, the admin socket); the
    // rows go with it, so that the relay need not read them back (OutboxHandoff).
    let wakeOnCommit = factory.settings.relay.wakeOnCommit
    let wakeup = relay.wakeup
    let handoff = relay.handoff
    let afterPayCommit: (@Sendable ([OutboxRecord]) -> Void)? =
      wakeOnCommit ? { @Sendable events in handoff.committed(events) } : nil
    service = PaymentsService(
      database: database, maxGroupSize: settings.groupCommit ? PaymentsService.defaultMaxGroupSize : 1,
      groupWindow: settings.groupCommitWindow ?? PaymentsService.defaultGroupWindow(for: database.storage.engine),
      failpoints: factory.failpoints, afterPayCommit: afterPayCommit, metrics: metrics)
    let workers = [
      try factory.worker(
        "payments-saga-tracker", handler: PaymentsSagaTrackerHandler(), service: .payments,
        database: database.storage, relay: relay),
      try factory.worker(
        "payment-compensation",
        handler: PaymentCompensationHandler(failpoints: factory.failpoints, metrics: metrics),
        service: .payments, database: database.storage, relay: relay),
    ]
    sweeper = StuckSagaSweeper(
      payments: service, settings: settings.sweeper, relayWakeup: wakeOnCommit ? wakeup : nil,
      pointsPeer: settings.pointsPeer, logger: factory.logger)
    parts = RoleParts(
      relays: [relay], workers: workers, tasks: [SupervisedChild(name: sweeper.name, kind: .sweeper, service: sweeper)],
      deadLetterGroups: [.sagadDeadLetters])
  }
}
