extension AdminJSON {
  /// One task the supervisor runs (`workers`, `status`): a consume worker, a relay, a DLT
  /// worker or the sweeper. `state` is starting, running, backoff, failed, paused or
  /// stopped; `nextStartAt` (RFC 3339) is set only in backoff.
  public struct Task: Codable, Sendable, Hashable {
    public var name: String
    public var kind: String
    public var state: String
    public var restarts: Int
    @Nullable public var lastError: String?
    @Nullable public var lastErrorAt: String?
    @Nullable public var nextStartAt: String?

    public init(
      name: String, kind: String, state: String, restarts: Int, lastError: String?, lastErrorAt: String?,
      nextStartAt: String?
    ) {
      self.name = name
      self.kind = kind
      self.state = state
      self.restarts = restarts
      self.lastError = lastError
      self.lastErrorAt = lastErrorAt
      self.nextStartAt = nextStartAt
    }
  }

  /// The reply to `pause`, `resume` and `restart`: the task as it is right after.
  public struct TaskChanged: Codable, Sendable, Hashable {
    public var task: Task
    public init(task: Task) { self.task = task }
  }

  /// One armed failpoint. `trigger` is `always`, `count` or `probability`; `count` is the N
  /// it was armed with and `remaining` the firings left (both null for other triggers);
  /// `probability` is null unless the trigger is one.
  public struct Failpoint: Codable, Sendable, Hashable {
    public var name: String
    public var action: String
    public var trigger: String
    @Nullable public var count: Int?
    @Nullable public var remaining: Int?
    @Nullable public var probability: Double?
    public var hits: Int
    public var fired: Int

    public init(
      name: String, action: String, trigger: String, count: Int?, remaining: Int?, probability: Double?, hits: Int,
      fired: Int
    ) {
      self.name = name
      self.action = action
      self.trigger = trigger
      self.count = count
      self.remaining = remaining
      self.probability = probability
      self.hits = hits
      self.fired = fired
    }
  }

  /// `failpoint list`, and the reply to `set` / `clear`: whether this sagad lets failpoints
  /// be armed (`failpoints.enabled`) and the armed ones by name.
  public struct Failpoints: Codable, Sendable, Hashable {
    public var enabled: Bool
    public var failpoints: [Failpoint]
    public init(enabled: Bool, failpoints: [Failpoint]) {
      self.enabled = enabled
      self.failpoints = failpoints
    }
  }
}
