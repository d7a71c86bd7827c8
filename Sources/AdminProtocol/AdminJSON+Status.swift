extension AdminJSON {
  /// One consume worker's counters since sagad started (`ConsumeWorker.statistics`).
  public struct Worker: Codable, Sendable, Hashable {
    public var name: String
    public var assignedPartitions: Int
    public var applied: Int
    public var duplicates: Int
    public var failed: Int
    public var retries: Int
    public var batches: Int
    public var lastError: String?

    public init(
      name: String, assignedPartitions: Int, applied: Int, duplicates: Int, failed: Int, retries: Int, batches: Int,
      lastError: String?
    ) {
      self.name = name
      self.assignedPartitions = assignedPartitions
      self.applied = applied
      self.duplicates = duplicates
      self.failed = failed
      self.retries = retries
      self.batches = batches
      self.lastError = lastError
    }

    public func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(name, forKey: .name)
      try container.encode(assignedPartitions, forKey: .assignedPartitions)
      try container.encode(applied, forKey: .applied)
      try container.encode(duplicates, forKey: .duplicates)
      try container.encode(failed, forKey: .failed)
      try container.encode(retries, forKey: .retries)
      try container.encode(batches, forKey: .batches)
      try container.encodeNullable(lastError, forKey: .lastError)
    }
  }

  public struct Workers: Codable, Sendable, Hashable {
    public var workers: [Worker]
    /// Every supervised task, workers included, with its state (`AdminJSON.Task`).
    public var tasks: [Task]
    public init(workers: [Worker], tasks: [Task] = []) {
      self.workers = workers
      self.tasks = tasks
    }
  }

  /// One outbox relay's counters since sagad started (`OutboxRelay.statistics`).
  public struct Relay: Codable, Sendable, Hashable {
    public var name: String
    public var sent: Int
    public var failedAttempts: Int
    public var lastError: String?

    public init(name: String, sent: Int, failedAttempts: Int, lastError: String?) {
      self.name = name
      self.sent = sent
      self.failedAttempts = failedAttempts
      self.lastError = lastError
    }

    public func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(name, forKey: .name)
      try container.encode(sent, forKey: .sent)
      try container.encode(failedAttempts, forKey: .failedAttempts)
      try container.encodeNullable(lastError, forKey: .lastError)
    }
  }

  /// The unsent outbox rows of one service database; `oldestPendingSeconds` is null when
  /// nothing is pending.
  public struct Outbox: Codable, Sendable, Hashable {
    public var service: String
    public var pending: Int
    public var oldestPendingSeconds: Double?

    public init(service: String, pending: Int, oldestPendingSeconds: Double?) {
      self.service = service
      self.pending = pending
      self.oldestPendingSeconds = oldestPendingSeconds
    }

    public func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(service, forKey: .service)
      try container.encode(pending, forKey: .pending)
      try container.encodeNullable(oldestPendingSeconds, forKey: .oldestPendingSeconds)
    }
  }

  public struct Status: Codable, Sendable, Hashable {
    public var version: String
    public var roles: [String]
    public var workers: [Worker]
    public var relays: [Relay]
    public var outbox: [Outbox]
    /// Every supervised task with its state, restarts and last error.
    public var tasks: [Task]
    /// Sagas the sweeper reported stuck (`stuck`); 0 without the payments role.
    public var stuckSagas: Int
    /// Parked compensations still open (`compensations list`); 0 without the payments role.
    public var openCompensations: Int
    /// Dead letters stored and neither replayed nor discarded (`dlt list --status pending`).
    public var deadLettersPending: Int

    public init(
      version: String, roles: [String], workers: [Worker], relays: [Relay], outbox: [Outbox], tasks: [Task] = [],
      stuckSagas: Int = 0, openCompensations: Int = 0, deadLettersPending: Int = 0
    ) {
      self.version = version
      self.roles = roles
      self.workers = workers
      self.relays = relays
      self.outbox = outbox
      self.tasks = tasks
      self.stuckSagas = stuckSagas
      self.openCompensations = openCompensations
      self.deadLettersPending = deadLettersPending
    }
  }
}
