public import CoreMetrics
public import Logging
public import Payments
public import Points
public import SagaCore
public import SagaRuntime
public import ServiceLifecycle
import Tracing

/// The services of one sagad process, wired for its roles: the composition root, the only
/// place that knows both services. Each role assembles itself from the runtime's factories
/// (`PaymentsRole`, `PointsRole`: a database, a relay, its consume workers); the runtime
/// adds the dead-letter store and workers and the `Supervisor` (restarts with back-off,
/// pause, operator restart), ordered so that a graceful shutdown stops the workers first
/// and the relays last (they drain the outbox).
public final class SagaNode: Service, Sendable {
  public let configuration: SagaNodeConfiguration
  public let payments: PaymentsService?
  public let points: PointsService?
  /// The stuck-saga sweeper of the payments role; nil without it.
  public let sweeper: StuckSagaSweeper?
  /// The relays, workers, dead letters and supervisor of every role.
  public let runtime: NodeRuntime

  public var workers: [ConsumeWorker] { runtime.workers }
  public var relays: [OutboxRelay] { runtime.relays }
  /// The node's fault injection points (armed only when `failpointsEnabled`).
  public var failpoints: Failpoints { runtime.failpoints }
  /// The dead-letter store (`dlt.sqlite`) and its operations: list, show, replay, discard.
  public var deadLetters: DeadLetterService { runtime.deadLetters }
  /// The DLT workers of the node's roles (`points-service-dlt`, `sagad-dlt`).
  public var deadLetterWorkers: [DeadLetterWorker] { runtime.deadLetterWorkers }
  /// Runs and restarts every long-running task above; `workers`/`status` show its snapshots.
  public var supervisor: Supervisor { runtime.supervisor }
  /// The node's spans (Docs/tracing.md); nil: tracing off.
  public let tracer: SagaTracer?

  /// - Parameters:
  ///   - metrics: where the node's components record their metrics; nil: the process's
  ///     bootstrapped factory.
  ///   - tracer: where `pay`, every record handled and every row published are traced; nil: off.
  ///   - storage: the databases `NodeStorage.open` opened (PostgreSQL); empty: the SQLite
  ///     files of the state directory, opened here.
  public init(
    configuration: SagaNodeConfiguration, storage: NodeStorage = NodeStorage(), hooks: WorkerHooks = WorkerHooks(),
    metrics: (any MetricsFactory)? = nil, tracer: SagaTracer? = nil, logger: Logger
  ) throws {
    self.configuration = configuration
    self.tracer = tracer
    let factory = try RuntimeFactory(
      settings: configuration.runtime, hooks: hooks, metrics: metrics, tracer: tracer,
      deadLetters: storage.deadLetters, logger: logger)
    var parts = RoleParts()
    if configuration.roles.contains(.payments) {
      let role = try PaymentsRole(settings: configuration.payments, database: storage.payments, factory: factory)
      payments = role.service
      sweeper = role.sweeper
      parts = parts + role.parts
    } else {
      payments = nil
      sweeper = nil
    }
    if configuration.roles.contains(.points) {
      let role = try PointsRole(settings: configuration.points, database: storage.points, factory: factory)
      points = role.service
      parts = parts + role.parts
    } else {
      points = nil
    }
    runtime = try factory.node(parts)
  }

  /// Applies a new retry policy to every consume worker's next batches (SIGHUP reload);
  /// refused, changing nothing, if it is invalid.
  public func updateRetry(_ policy: RetryPolicy) throws(SagaError) {
    try runtime.updateRetry(policy)
  }

  /// Pays through Payments. Its relay is woken by the service itself, once per
  /// committed group of payments (`afterPayCommit`).
  ///
  /// The saga's trace starts here: with tracing on, under a `pay` span (the caller's child
  /// when `request.trace` names one), whose context `ReservationCompleted` carries; without,
  /// under a child of the caller's context, or a new trace.
  public func pay(_ request: PayRequest) async throws -> PayResult {
    guard let payments else { throw SagaError(.internalError, "this node does not run the payments role") }
    guard let tracer else {
      var request = request
      request.trace = request.trace?.child()
      return try await payments.pay(request)
    }
    let span = tracer.startSpan(
      "pay", parent: tracer.context(traceparent: request.trace?.traceparent), kind: .server)
    defer { span.end() }
    span.attributes["sagad.service"] = SagaService.payments.rawValue
    var traced = request
    traced.trace = tracer.trace(of: span) ?? request.trace?.child()
    do {
      let result = try await InstrumentationContext.withValue(span.context) { try await payments.pay(traced) }
      span.attributes["sagad.payment_id"] = result.paymentId
      span.attributes["sagad.duplicate"] = result.duplicate
      return result
    } catch {
      span.recordError(error)
      span.setStatus(SpanStatus(code: .error, message: "\(error)"))
      throw error
    }
  }

  /// The node's long-running tasks for sagad's service group (`NodeRuntime.services`).
  public var services: [ServiceGroupConfiguration.ServiceConfiguration] { runtime.services }

  /// Runs the node without a daemon around it (tests, sagad-bench).
  public func run() async throws {
    try await runtime.run()
  }
}
