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
      public var topic: String
      public var partition: Int32
      public var lag: Int64?
      public var committed: Int64?
      public var highWatermark: Int64?
      /// `OK`, `WARN` or `ERR`.
      public var status: String
      /// Statistics samples the status was judged on.
      public var samples: Int
      public init(
        group: String, topic: String, partition: Int32, lag: Int64?, committed: Int64?, highWatermark: Int64?,
        status: String, samples: Int
      ) {
        self.group = group
        self.topic = topic
        self.partition = partition
        self.lag = lag
        self.committed = committed
        self.highWatermark = highWatermark
        self.status = status
        self.samples = samples
      }
      public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(group, forKey: .group)
        try container.encode(topic, forKey: .topic)
        try container.encode(partition, forKey: .partition)
        try container.encodeNullable(lag, forKey: .lag)
        try container.encodeNullable(committed, forKey: .committed)
        try container.encodeNullable(highWatermark, forKey: .highWatermark)
        try container.encode(status, forKey: .status)
        try container.encode(samples, forKey: .samples)
      }
    }
    /// The worst partition status, `OK` when there are none.
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
