/// The documents of `--json` replies (the `1002` line). Field names are camelCase and
/// stable: scripts and `sagactl load` rely on them, so a rename is a protocol change.
/// Optional fields are `@Nullable`: written as `null`, never left out, so every document
/// of a kind has the same keys.
public enum AdminJSON {
  public struct Version: Codable, Sendable, Hashable {
    public var version: String
    public var protocolVersion: Int
    public init(version: String, protocolVersion: Int) {
      self.version = version
      self.protocolVersion = protocolVersion
    }
  }

  public struct Help: Codable, Sendable, Hashable {
    public struct Command: Codable, Sendable, Hashable {
      public var name: String
      public var usage: String
      public var level: String
      public var summary: String
    }
    public var commands: [Command]

    public init(_ commands: [AdminCommand]) {
      self.commands = commands.map {
        Command(name: $0.rawValue, usage: $0.usage, level: $0.level.description, summary: $0.summary)
      }
    }
  }

  public struct UserAdded: Codable, Sendable, Hashable {
    public var userId: Int64
    public var wallet: Int64
    public var enrolled: Bool
    public init(userId: Int64, wallet: Int64, enrolled: Bool) {
      self.userId = userId
      self.wallet = wallet
      self.enrolled = enrolled
    }
  }

  public struct Charged: Codable, Sendable, Hashable {
    public var userId: Int64
    public var wallet: Int64
    public init(userId: Int64, wallet: Int64) {
      self.userId = userId
      self.wallet = wallet
    }
  }

  /// `wallet` is null when this sagad does not run Payments; `points` when the user has
  /// no point account or this sagad does not run Points.
  public struct Balance: Codable, Sendable, Hashable {
    public var userId: Int64
    @Nullable public var wallet: Int64?
    @Nullable public var points: Int64?
    public init(userId: Int64, wallet: Int64?, points: Int64?) {
      self.userId = userId
      self.wallet = wallet
      self.points = points
    }
  }

  public struct Paid: Codable, Sendable, Hashable {
    public var paymentId: Int64
    public var reservationId: Int64
    public var amount: Int64
    public var status: String
    public var duplicate: Bool
    public var correlationId: String
    public init(
      paymentId: Int64, reservationId: Int64, amount: Int64, status: String, duplicate: Bool, correlationId: String
    ) {
      self.paymentId = paymentId
      self.reservationId = reservationId
      self.amount = amount
      self.status = status
      self.duplicate = duplicate
      self.correlationId = correlationId
    }
  }

  public struct Payment: Codable, Sendable, Hashable {
    public var paymentId: Int64
    public var userId: Int64
    public var reservationId: Int64
    public var scheduleId: Int64
    @Nullable public var seat: String?
    public var amount: Int64
    public var status: String
    public var reservationStatus: String
    @Nullable public var rewardAmount: Int64?
    @Nullable public var refundedAmount: Int64?
    @Nullable public var failureReason: String?
    public var correlationId: String
    public var createdAt: String
    public var updatedAt: String

    public init(
      paymentId: Int64, userId: Int64, reservationId: Int64, scheduleId: Int64, seat: String?, amount: Int64,
      status: String, reservationStatus: String, rewardAmount: Int64?, refundedAmount: Int64?,
      failureReason: String?, correlationId: String, createdAt: String, updatedAt: String
    ) {
      self.paymentId = paymentId
      self.userId = userId
      self.reservationId = reservationId
      self.scheduleId = scheduleId
      self.seat = seat
      self.amount = amount
      self.status = status
      self.reservationStatus = reservationStatus
      self.rewardAmount = rewardAmount
      self.refundedAmount = refundedAmount
      self.failureReason = failureReason
      self.correlationId = correlationId
      self.createdAt = createdAt
      self.updatedAt = updatedAt
    }
  }

  /// `payments --json`: the payments of the range that exist, in id order.
  public struct Payments: Codable, Sendable, Hashable {
    public var payments: [Payment]
    public init(payments: [Payment]) { self.payments = payments }
  }

  public struct Saga: Codable, Sendable, Hashable {
    public struct Step: Codable, Sendable, Hashable {
      public var at: String
      public var step: String
      @Nullable public var topic: String?
      @Nullable public var partition: Int32?
      @Nullable public var offset: Int64?
      @Nullable public var eventId: String?
      public var outcome: String
      /// `payments` or `points`: whose database the step comes from.
      public var service: String
      public init(
        at: String, step: String, topic: String?, partition: Int32?, offset: Int64?, eventId: String?,
        outcome: String, service: String = "payments"
      ) {
        self.service = service
        self.at = at
        self.step = step
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.eventId = eventId
        self.outcome = outcome
      }
    }
    public var paymentId: Int64
    public var steps: [Step]
    public init(paymentId: Int64, steps: [Step]) {
      self.paymentId = paymentId
      self.steps = steps
    }
  }

  /// `violations` names the service first (`payments: …`, `points: …`, `saga: …` for the
  /// checks across both databases). `warnings` (sagas without an outcome for longer than
  /// `sweeper.stuck_after`) never make `ok` false.
  /// `audit`: what one sagad's roles recorded, for `verify --peer` on the other.
  public struct Audit: Codable, Sendable, Hashable {
    public struct Payment: Codable, Sendable, Hashable {
      public var paymentId: Int64
      public var userId: Int64
      public var amount: Int64
      public var status: String
      @Nullable public var rewardAmount: Int64?
      public init(paymentId: Int64, userId: Int64, amount: Int64, status: String, rewardAmount: Int64?) {
        self.paymentId = paymentId
        self.userId = userId
        self.amount = amount
        self.status = status
        self.rewardAmount = rewardAmount
      }
    }
    public struct PointsRecord: Codable, Sendable, Hashable {
      public var paymentId: Int64
      public var userId: Int64
      public var paidAmount: Int64
      /// Nil for a failure.
      @Nullable public var rewardedPoints: Int64?
      public init(paymentId: Int64, userId: Int64, paidAmount: Int64, rewardedPoints: Int64?) {
        self.paymentId = paymentId
        self.userId = userId
        self.paidAmount = paidAmount
        self.rewardedPoints = rewardedPoints
      }
    }
    /// Nil when this sagad does not run that role.
    @Nullable public var payments: [Payment]?
    @Nullable public var points: [PointsRecord]?
    public init(payments: [Payment]?, points: [PointsRecord]?) {
      self.payments = payments
      self.points = points
    }
  }

  public struct Verify: Codable, Sendable, Hashable {
    public var ok: Bool
    public var violations: [String]
    public var warnings: [String]
    public init(ok: Bool, violations: [String], warnings: [String] = []) {
      self.ok = ok
      self.violations = violations
      self.warnings = warnings
    }
    /// A document from a sagad that predates `warnings` still decodes.
    public init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      ok = try container.decode(Bool.self, forKey: .ok)
      violations = try container.decode([String].self, forKey: .violations)
      warnings = try container.decodeIfPresent([String].self, forKey: .warnings) ?? []
    }
  }
}
