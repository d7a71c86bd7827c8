import AdminProtocol
import Foundation
import Payments
import Points
import SagaCore
import SagaRuntime
import SagaStorage

/// Executes parsed admin requests against this sagad's services. It holds the services,
/// not the node, so tests can run it on bare databases without Kafka; every command for
/// a role this process does not run answers `8004`.
struct AdminCommands: Sendable {
  let version: String
  let roles: [String]
  let payments: PaymentsService?
  let points: PointsService?
  let workers: [ConsumeWorker]
  let relays: [OutboxRelay]
  /// The dead-letter store's operations (`dlt …`); nil answers `8004`.
  var deadLetters: DeadLetterService?
  /// `SagaNode.pay`, which also wakes the outbox relay.
  let pay: @Sendable (PayRequest) async throws -> PayResult
  /// The daemon around the services (drain, shutdown, lag); nil in tests without one.
  var daemon: DaemonAdmin?
  /// The node's supervisor (`pause`, `resume`, `restart`, task states); nil without a node.
  var supervisor: Supervisor?
  /// The node's failpoints (`failpoint …`); nil answers as disabled.
  var failpoints: Failpoints?
  /// The reward rule Points applies; `verify` checks every reward against it.
  var rewardRule = RewardRule.standard
  /// `sweeper.stuck_after` in force (it reloads); `verify` warns about older sagas.
  var stuckAfter: @Sendable () -> Duration = { SweeperSettings().stuckAfter }

  init(
    version: String, roles: [String], payments: PaymentsService?, points: PointsService?,
    workers: [ConsumeWorker] = [], relays: [OutboxRelay] = [], pay: (@Sendable (PayRequest) async throws -> PayResult)?
  ) {
    self.version = version
    self.roles = roles
    self.payments = payments
    self.points = points
    self.workers = workers
    self.relays = relays
    self.pay =
      pay ?? { [payments] request in
        guard let payments else { throw Self.roleMissing("payments") }
        return try await payments.pay(request)
      }
  }

  init(node: SagaNode) {
    self.init(
      version: SagaCore.version, roles: node.configuration.roles.map(\.rawValue).sorted(), payments: node.payments,
      points: node.points, workers: node.workers, relays: node.relays, pay: node.pay)
    deadLetters = node.deadLetters
    supervisor = node.supervisor
    failpoints = node.failpoints
    rewardRule = node.configuration.rewardRule
    stuckAfter = { [sweeper = node.sweeper, configured = node.configuration.sweeper.stuckAfter] in
      sweeper?.settings.stuckAfter ?? configured
    }
  }

  /// The reply to `request`; never throws: every failure becomes a coded line.
  func execute(_ request: AdminRequest) async -> AdminReply {
    do {
      switch request.command {
      case .help: return try help(request)
      case .version: return version(request)
      case .status: return try await status(request)
      case .workers: return workersReply(request)
      case .userAdd: return try await userAdd(request)
      case .charge: return try await charge(request)
      case .balance: return try await balance(request)
      case .pay: return try await gated { try await payReply(request) }
      case .payment: return try await payment(request)
      case .payments: return try await paymentsReply(request)
      case .saga: return try await saga(request)
      case .verify: return try await verify(request)
      case .audit: return try await audit(request)
      case .logLevel: return try logLevelReply(request)
      case .lag: return try lagReply(request)
      case .drain: return try await drainReply(request)
      case .shutdown: return try shutdownReply(request)
      case .dltList, .dltShow, .dltReplay, .dltDiscard: return try await deadLetterCommand(request)
      case .outboxList, .outboxShow, .outboxDiscard: return try await outboxCommand(request)
      case .compensationsList, .compensationsRetry, .compensationsResolve, .stuck:
        return try await compensationsOrStuck(request)
      case .failpointSet, .failpointClear, .failpointList: return try failpointCommand(request)
      case .pause, .resume, .restart: return try await taskCommand(request)
      }
    } catch {
      return Self.reply(for: error)
    }
  }

  // MARK: Daemon commands

  private func help(_ request: AdminRequest) throws -> AdminReply {
    let topic = request.words("command").joined(separator: " ")
    var commands = AdminCommand.allCases
    if !topic.isEmpty {
      guard let command = AdminCommand(rawValue: topic) else {
        throw AdminProtocolError(.unknownCommand, "no command '\(topic)'; `help` lists the commands")
      }
      commands = [command]
    }
    if request.json { return try Self.json(AdminJSON.Help(commands)) }
    var out = ReplyBuilder()
    if let command = commands.first, commands.count == 1 {
      out.text("usage: \(command.usage)")
      out.text("\(command.summary) (level \(command.level))")
      for parameter in command.parameters { out.text("  \(parameter.name): \(parameter.summary)") }
      out.text("  --json: answer with one JSON document")
      return out.finish()
    }
    out.header(["COMMAND", "LEVEL", "DESCRIPTION"])
    for command in commands { out.row([command.usage, command.level.description, command.summary]) }
    return out.finish(.ok, "\(commands.count) commands; every one takes --json")
  }

  private func version(_ request: AdminRequest) -> AdminReply {
    if request.json,
      let reply = try? Self.json(AdminJSON.Version(version: version, protocolVersion: AdminProtocol.protocolVersion))
    {
      return reply
    }
    return .final(.ok, "sagad \(version) proto=\(AdminProtocol.protocolVersion)")
  }

  private func workerDocuments() -> [AdminJSON.Worker] {
    workers.map { worker in
      let stats = worker.statistics
      return AdminJSON.Worker(
        name: worker.name, assignedPartitions: worker.assignment.count, applied: stats.applied,
        duplicates: stats.duplicates, failed: stats.deadLettered, retries: stats.retries, batches: stats.batches,
        lastError: stats.lastError, parked: stats.retryScheduleDepth, oneStatementBatches: stats.oneStatementBatches,
        oneStatementFallbacks: stats.oneStatementFallbacks, isolatedReruns: stats.isolatedReruns,
        storageUnavailable: stats.storageUnavailable)
    }
  }

  private func workersTable(_ out: inout ReplyBuilder, _ documents: [AdminJSON.Worker]) {
    out.header([
      "WORKER", "PARTITIONS", "APPLIED", "DUPLICATES", "FAILED", "RETRIES", "PARKED", "BATCHES", "LAST ERROR",
    ])
    for worker in documents {
      // A worker waiting for its database says so first: its records wait, none fails meanwhile.
      let error = worker.storageUnavailable.map { "waiting for storage: \($0)" } ?? worker.lastError ?? "-"
      out.row(
        [worker.name]
          + [
            worker.assignedPartitions, worker.applied, worker.duplicates, worker.failed, worker.retries,
            worker.parked, worker.batches,
          ].map(String.init) + [error])
    }
  }

  private func workersReply(_ request: AdminRequest) -> AdminReply {
    let documents = workerDocuments()
    let tasks = taskDocuments()
    if request.json, let reply = try? Self.json(AdminJSON.Workers(workers: documents, tasks: tasks)) { return reply }
    var out = ReplyBuilder()
    tasksTable(&out, tasks)
    workersTable(&out, documents)
    return out.finish(.ok, "\(documents.count) workers, \(tasks.count) supervised tasks")
  }

  private func status(_ request: AdminRequest) async throws -> AdminReply {
    let workers = workerDocuments()
    let relays = relays.map { relay in
      let stats = relay.statistics
      return AdminJSON.Relay(
        name: relay.name, sent: stats.sent, failedAttempts: stats.failedAttempts, lastError: stats.lastError,
        lease: stats.leaseHeld.map {
          AdminJSON.Relay.Lease(
            held: $0, listening: stats.listening, announcementsHeard: stats.announcementsHeard,
            announcedRounds: stats.announcedRounds)
        }, readRounds: stats.readRounds, handedRounds: stats.handedRounds)
    }
    // The database may be down (PostgreSQL restarting): status still answers with what the
    // process knows, the storage marked unreachable and its counts left out.
    var storageError: String?
    var outbox: [AdminJSON.Outbox] = []
    var stuck = 0
    var parked = 0
    var deadLettersPending: [String: Int] = [:]
    do {
      let databases = [("payments", payments?.database.storage), ("points", points?.database.storage)]
      for case (let service, let database?) in databases {
        let (pending, oldest) = try await database.read { db in
          (try Outbox.pendingCount(in: db), try Outbox.oldestPendingCreatedAt(in: db))
        }
        outbox.append(
          AdminJSON.Outbox(
            service: service, pending: pending,
            oldestPendingSeconds: oldest.map { max(0, Date().timeIntervalSince($0)) }))
      }
      stuck = try await payments?.stuckSagaCount() ?? 0
      parked = try await payments?.openCompensationCount() ?? 0
      deadLettersPending = try await deadLetters?.pendingCounts() ?? [:]
    } catch {
      storageError = "\(error)"
    }
    let storage = await storageDocument(error: storageError)
    if request.json {
      return try Self.json(
        AdminJSON.Status(
          version: version, roles: roles, workers: workers, relays: relays, outbox: outbox, tasks: taskDocuments(),
          stuckSagas: stuck, openCompensations: parked,
          deadLettersPending: deadLettersPending.values.reduce(0, +), kafka: kafkaDocument(), storage: storage))
    }
    var out = ReplyBuilder()
    out.text("sagad \(version), roles: \(roles.joined(separator: ", "))")
    if let kafka = kafkaDocument() { out.text(Self.kafkaLine(kafka)) }
    if let storage { Self.storageLines(&out, storage) }
    if payments != nil { out.text("stuck sagas: \(stuck), open compensations: \(parked)") }
    if deadLetters != nil {
      let topics = deadLettersPending.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
      out.text(
        "dead letters pending: \(deadLettersPending.values.reduce(0, +))"
          + (topics.isEmpty ? "" : " (\(topics.joined(separator: ", ")))"))
    }
    tasksTable(&out, taskDocuments())
    workersTable(&out, workers)
    out.header(["RELAY", "PUBLISHES", "SENT", "FAILED ATTEMPTS", "ROUNDS READ / HANDED", "LAST ERROR"])
    for relay in relays {
      out.row([
        relay.name, Self.publishes(relay.lease), String(relay.sent), String(relay.failedAttempts),
        "\(relay.readRounds) / \(relay.handedRounds)", relay.lastError ?? "-",
      ])
    }
    out.header(["OUTBOX", "PENDING", "OLDEST"])
    for entry in outbox {
      out.row([
        entry.service, String(entry.pending), entry.oldestPendingSeconds.map { String(format: "%.1f s", $0) } ?? "-",
      ])
    }
    return out.finish()
  }

  /// Whether a relay publishes here: always without a lease; with one, only its holder, which
  /// should hear the standbys' commits announced (else their rows wait for its scan).
  static func publishes(_ lease: AdminJSON.Relay.Lease?) -> String {
    guard let lease else { return "yes" }
    guard lease.held else { return "no: standby" }
    return lease.listening
      ? "yes: lease held, \(lease.announcementsHeard) standby commits heard, \(lease.announcedRounds) rounds by id"
      : "yes: lease held, NOT hearing standby commits"
  }

  // MARK: Shared

  static func roleMissing(_ role: String) -> AdminProtocolError {
    AdminProtocolError(.roleNotRunning, "this sagad does not run the \(role) role (see `roles` in its configuration)")
  }

  /// A reply holding `document` as the one `1002` line. Sorted keys keep the text of a
  /// document stable; the encoder never pretty-prints, so the document stays one line.
  static func json(_ document: some Encodable, code: ReplyCode = .ok, text: String = "ok") throws -> AdminReply {
    var out = ReplyBuilder()
    // The flat encoder writes JSONEncoder's bytes for flat documents (the `pay` reply) at a
    // fraction of its cost; anything nested goes to JSONEncoder.
    let bytes = try FlatJSONEncoder.encode(document) ?? Array(encoder.encode(document))
    out.json(String(decoding: bytes, as: UTF8.self))
    return out.finish(code, text)
  }

  /// The encoder of every JSON reply (configured once; encoding does not change it).
  static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }()

  /// The coded line for an error: one that knows its reply (`AdminReplyError`: the
  /// protocol's own, Payments', saga and dead-letter errors) says it; anything else is `8000`.
  static func reply(for error: any Error) -> AdminReply {
    (error as? any AdminReplyError)?.reply ?? .final(.failed, "\(error)")
  }
}
