/// The `--json` documents of the daemon commands: `log-level`, `lag`, `drain`, `shutdown`.
extension AdminJSON {
  public struct LogLevel: Codable, Sendable, Hashable {
    public var level: String
    /// The level before the change; equal to `level` when nothing changed.
    public var previous: String
    public init(level: String, previous: String) {
      self.level = level
      self.previous = previous
    }
  }

  public struct Lag: Codable, Sendable, Hashable {
    public struct Partition: Codable, Sendable, Hashable {
      public var group: String
      /// `own` (a service of this sagad joins the group) or `partner` (the other service's
      /// group, reading a topic this sagad produces).
      public var role: String
      public var topic: String
      public var partition: Int32
      /// Records behind; counted from the log start when `neverCommitted`.
      @Nullable public var lag: Int64?
      /// nil when the group never committed on the partition, or the source did not say.
      @Nullable public var committed: Int64?
      @Nullable public var highWatermark: Int64?
      /// The broker holds no committed offset of the group for this partition.
      public var neverCommitted: Bool
      /// `OK`, `WARN`, `ERR`, or `NO-OFFSET` when `neverCommitted`.
      public var status: String
      /// Samples the status was judged on.
      public var samples: Int
      /// `assigned` (a consumer of the group in this sagad holds the partition), `alive` (one
      /// runs here, the partition is elsewhere) or `none` (no consumer of the group here).
      public var consumer: String
      /// `broker` (committed offsets and watermarks asked from the cluster) or `statistics`
      /// (librdkafka's, when the broker did not answer).
      public var source: String
      public init(
        group: String, role: String, topic: String, partition: Int32, lag: Int64?, committed: Int64?,
        highWatermark: Int64?, neverCommitted: Bool, status: String, samples: Int, consumer: String, source: String
      ) {
        self.group = group
        self.role = role
        self.topic = topic
        self.partition = partition
        self.lag = lag
        self.committed = committed
        self.highWatermark = highWatermark
        self.neverCommitted = neverCommitted
        self.status = status
        self.samples = samples
        self.consumer = consumer
        self.source = source
      }
    }
    /// The worst status of the partitions with a committed offset, `OK` when there are none.
    public var status: String
    /// Samples per judgement (`lag.window`).
    public var window: Int
    public var partitions: [Partition]
    public init(status: String, window: Int, partitions: [Partition]) {
      self.status = status
      self.window = window
      self.partitions = partitions
    }
  }

  public struct Drain: Codable, Sendable, Hashable {
    /// Whether the outbox emptied and no payment was in flight before the timeout.
    public var drained: Bool
    public var paysInFlight: Int
    /// Outbox rows still waiting, by service.
    public var outboxPending: [String: Int]
    public var seconds: Double
    public init(drained: Bool, paysInFlight: Int, outboxPending: [String: Int], seconds: Double) {
      self.drained = drained
      self.paysInFlight = paysInFlight
      self.outboxPending = outboxPending
      self.seconds = seconds
    }
  }

  public struct Shutdown: Codable, Sendable, Hashable {
    public var stopping: Bool
    /// `shutdown.timeout` in seconds.
    public var timeoutSeconds: Double
    public init(stopping: Bool, timeoutSeconds: Double) {
      self.stopping = stopping
      self.timeoutSeconds = timeoutSeconds
    }
  }
}
