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
    @Nullable public var lastError: String?
    /// Records of this worker's group waiting in `retry_schedule` for a later attempt.
    public var parked: Int
    /// How its batches were written: as one statement without a transaction (PostgreSQL), the
    /// one-statement writes that failed and ran again as a transaction, and the batches run again
    /// record by record after a failure (Docs/metrics.md, `sagad_consume_batches_total`). 0 from
    /// an older sagad that did not count them.
    public var oneStatementBatches: Int
    public var oneStatementFallbacks: Int
    public var isolatedReruns: Int
    /// Set while the worker waits for an unreachable database (PostgreSQL): the error. Its
    /// records wait, none is failed meanwhile.
    @Nullable public var storageUnavailable: String?

    public init(
      name: String, assignedPartitions: Int, applied: Int, duplicates: Int, failed: Int, retries: Int, batches: Int,
      lastError: String?, parked: Int = 0, oneStatementBatches: Int = 0, oneStatementFallbacks: Int = 0,
      isolatedReruns: Int = 0, storageUnavailable: String? = nil
    ) {
      self.name = name
      self.assignedPartitions = assignedPartitions
      self.applied = applied
      self.duplicates = duplicates
      self.failed = failed
      self.retries = retries
      self.batches = batches
      self.lastError = lastError
      self.parked = parked
      self.oneStatementBatches = oneStatementBatches
      self.oneStatementFallbacks = oneStatementFallbacks
      self.isolatedReruns = isolatedReruns
      self.storageUnavailable = storageUnavailable
    }

    private enum CodingKeys: String, CodingKey {
      case name, assignedPartitions, applied, duplicates, failed, retries, batches, lastError, parked
      case oneStatementBatches, oneStatementFallbacks, isolatedReruns, storageUnavailable
    }

    public init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      name = try container.decode(String.self, forKey: .name)
      assignedPartitions = try container.decode(Int.self, forKey: .assignedPartitions)
      applied = try container.decode(Int.self, forKey: .applied)
      duplicates = try container.decode(Int.self, forKey: .duplicates)
      failed = try container.decode(Int.self, forKey: .failed)
      retries = try container.decode(Int.self, forKey: .retries)
      batches = try container.decode(Int.self, forKey: .batches)
      lastError = try container.decodeIfPresent(String.self, forKey: .lastError)
      // Absent from an older sagad's answer.
      parked = try container.decodeIfPresent(Int.self, forKey: .parked) ?? 0
      oneStatementBatches = try container.decodeIfPresent(Int.self, forKey: .oneStatementBatches) ?? 0
      oneStatementFallbacks = try container.decodeIfPresent(Int.self, forKey: .oneStatementFallbacks) ?? 0
      isolatedReruns = try container.decodeIfPresent(Int.self, forKey: .isolatedReruns) ?? 0
      storageUnavailable = try container.decodeIfPresent(String.self, forKey: .storageUnavailable)
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
    /// The relay's lease where instances share a database (PostgreSQL): only its holder publishes.
    public struct Lease: Codable, Sendable, Hashable {
      /// Whether this instance holds it and so publishes the outbox; false: a standby, whose
      /// commits the holder publishes.
      public var held: Bool
      /// Holder only: whether it hears the standbys announce their outbox commits right now
      /// (else their rows wait for its periodic scan).
      public var listening: Bool
      /// Standby commits announced to this instance while it held the lease.
      public var announcementsHeard: Int
      /// Of the rounds read, those that read the rows an announcement named, by id (the rest of
      /// the standbys' rows were found by a scan from the oldest row); 0 from an older sagad.
      public var announcedRounds: Int

      public init(held: Bool, listening: Bool, announcementsHeard: Int, announcedRounds: Int = 0) {
        self.held = held
        self.listening = listening
        self.announcementsHeard = announcementsHeard
        self.announcedRounds = announcedRounds
      }

      private enum CodingKeys: String, CodingKey {
        case held, listening, announcementsHeard, announcedRounds
      }

      public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        held = try container.decode(Bool.self, forKey: .held)
        listening = try container.decode(Bool.self, forKey: .listening)
        announcementsHeard = try container.decode(Int.self, forKey: .announcementsHeard)
        announcedRounds = try container.decodeIfPresent(Int.self, forKey: .announcedRounds) ?? 0
      }
    }

    public var name: String
    public var sent: Int
    public var failedAttempts: Int
    @Nullable public var lastError: String?
    /// Null: no lease, the relay always publishes (SQLite, one instance by construction).
    @Nullable public var lease: Lease?
    /// Rounds read from the outbox, and rounds of rows their writers handed over unread; 0 from
    /// an older sagad that did not count them.
    public var readRounds: Int
    public var handedRounds: Int

    public init(
      name: String, sent: Int, failedAttempts: Int, lastError: String?, lease: Lease? = nil, readRounds: Int = 0,
      handedRounds: Int = 0
    ) {
      self.name = name
      self.sent = sent
      self.failedAttempts = failedAttempts
      self.lastError = lastError
      self.lease = lease
      self.readRounds = readRounds
      self.handedRounds = handedRounds
    }

    private enum CodingKeys: String, CodingKey {
      case name, sent, failedAttempts, lastError, lease, readRounds, handedRounds
    }

    public init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      name = try container.decode(String.self, forKey: .name)
      sent = try container.decode(Int.self, forKey: .sent)
      failedAttempts = try container.decode(Int.self, forKey: .failedAttempts)
      lastError = try container.decodeIfPresent(String.self, forKey: .lastError)
      lease = try container.decodeIfPresent(Lease.self, forKey: .lease)
      readRounds = try container.decodeIfPresent(Int.self, forKey: .readRounds) ?? 0
      handedRounds = try container.decodeIfPresent(Int.self, forKey: .handedRounds) ?? 0
    }
  }

  /// The unsent outbox rows of one service database; `oldestPendingSeconds` is null when
  /// nothing is pending.
  public struct Outbox: Codable, Sendable, Hashable {
    public var service: String
    public var pending: Int
    @Nullable public var oldestPendingSeconds: Double?

    public init(service: String, pending: Int, oldestPendingSeconds: Double?) {
      self.service = service
      self.pending = pending
      self.oldestPendingSeconds = oldestPendingSeconds
    }
  }

  /// The storage engine of a node (`storage.engine`).
  public struct Storage: Codable, Sendable, Hashable {
    /// A lease of the instances sharing a PostgreSQL database (relay per service, sweeper).
    public struct Lease: Codable, Sendable, Hashable {
      public var name: String
      /// The instance holding it (`sagad@host:pid`); null when nobody does right now.
      @Nullable public var holder: String?
      /// Whether this instance is the holder.
      public var heldHere: Bool

      public init(name: String, holder: String?, heldHere: Bool) {
        self.name = name
        self.holder = holder
        self.heldHere = heldHere
      }
    }

    /// `sqlite` or `postgres`.
    public var engine: String
    /// The state directory's files, or the PostgreSQL URL without its password.
    public var location: String
    /// Whether the last query for this document was answered.
    public var reachable: Bool
    @Nullable public var lastError: String?
    /// This instance's session name on PostgreSQL; null on SQLite.
    @Nullable public var instance: String?
    /// Every sagad instance with a session on the database (PostgreSQL).
    public var instances: [String]
    public var leases: [Lease]

    public init(
      engine: String, location: String, reachable: Bool, lastError: String?, instance: String?, instances: [String],
      leases: [Lease]
    ) {
      self.engine = engine
      self.location = location
      self.reachable = reachable
      self.lastError = lastError
      self.instance = instance
      self.instances = instances
      self.leases = leases
    }
  }

  /// Whether the Kafka cluster answers, from the daemon's periodic metadata probe.
  public struct Kafka: Codable, Sendable, Hashable {
    public struct Broker: Codable, Sendable, Hashable {
      public var id: Int32
      public var host: String
      public var port: Int32
      public init(id: Int32, host: String, port: Int32) {
        self.id = id
        self.host = host
        self.port = port
      }
    }
    /// `kafka.brokers` as configured.
    public var bootstrapServers: [String]
    /// A metadata request was answered recently and the last one did not fail.
    public var reachable: Bool
    /// The brokers the cluster reported in its last answer.
    public var brokers: [Broker]
    /// The broker that gave the last answer.
    @Nullable public var answeredBy: String?
    /// Seconds since the last answer; null if none ever came.
    @Nullable public var lastAnswerSecondsAgo: Double?
    /// Seconds since the last probe started; null before the first.
    @Nullable public var lastCheckSecondsAgo: Double?
    /// Why the last probe failed; null when it was answered.
    @Nullable public var lastError: String?
    /// The cluster's id in the last answer (`mockCluster…`: the development broker); null
    /// before an answer, or from a sagad that does not report it.
    @Nullable public var clusterId: String?

    public init(
      bootstrapServers: [String], reachable: Bool, brokers: [Broker], answeredBy: String?,
      lastAnswerSecondsAgo: Double?, lastCheckSecondsAgo: Double?, lastError: String?, clusterId: String? = nil
    ) {
      self.bootstrapServers = bootstrapServers
      self.reachable = reachable
      self.brokers = brokers
      self.answeredBy = answeredBy
      self.lastAnswerSecondsAgo = lastAnswerSecondsAgo
      self.lastCheckSecondsAgo = lastCheckSecondsAgo
      self.lastError = lastError
      self.clusterId = clusterId
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
    /// Broker reachability; null in a process without the daemon's probe.
    @Nullable public var kafka: Kafka?
    /// Where the state is and, on PostgreSQL, the instances sharing it and the lease holders.
    @Nullable public var storage: Storage?

    public init(
      version: String, roles: [String], workers: [Worker], relays: [Relay], outbox: [Outbox], tasks: [Task] = [],
      stuckSagas: Int = 0, openCompensations: Int = 0, deadLettersPending: Int = 0, kafka: Kafka? = nil,
      storage: Storage? = nil
    ) {
      self.storage = storage
      self.version = version
      self.roles = roles
      self.workers = workers
      self.relays = relays
      self.outbox = outbox
      self.tasks = tasks
      self.stuckSagas = stuckSagas
      self.openCompensations = openCompensations
      self.deadLettersPending = deadLettersPending
      self.kafka = kafka
    }
  }
}
