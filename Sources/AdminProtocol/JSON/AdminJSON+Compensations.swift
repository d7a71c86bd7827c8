extension AdminJSON {
  /// One parked compensation (`compensations list`). `status` is `open`, `retried` or
  /// `resolved`; times are RFC 3339.
  public struct Compensation: Codable, Sendable, Hashable {
    public var paymentId: Int64
    public var userId: Int64
    public var amount: Int64
    public var reasonCode: String
    public var reason: String
    public var since: String
    public var status: String
    @Nullable public var resolvedAt: String?
    @Nullable public var resolvedBy: String?
    @Nullable public var note: String?

    public init(
      paymentId: Int64, userId: Int64, amount: Int64, reasonCode: String, reason: String, since: String,
      status: String, resolvedAt: String?, resolvedBy: String?, note: String?
    ) {
      self.paymentId = paymentId
      self.userId = userId
      self.amount = amount
      self.reasonCode = reasonCode
      self.reason = reason
      self.since = since
      self.status = status
      self.resolvedAt = resolvedAt
      self.resolvedBy = resolvedBy
      self.note = note
    }
  }

  public struct Compensations: Codable, Sendable, Hashable {
    public var compensations: [Compensation]
    public init(compensations: [Compensation]) { self.compensations = compensations }
  }

  /// `compensations retry`: `result` is `refunded`, `already-refunded` or `still-parked`;
  /// `reason` is set for `still-parked`.
  public struct CompensationRetry: Codable, Sendable, Hashable {
    public var paymentId: Int64
    public var result: String
    @Nullable public var amount: Int64?
    @Nullable public var reason: String?

    public init(paymentId: Int64, result: String, amount: Int64?, reason: String?) {
      self.paymentId = paymentId
      self.result = result
      self.amount = amount
      self.reason = reason
    }
  }

  /// One saga the sweeper re-announced (`stuck`). `state` is `reported` (over
  /// `sweeper.max_republish`, no longer re-announced) or `republishing`.
  public struct StuckSaga: Codable, Sendable, Hashable {
    public var paymentId: Int64
    public var userId: Int64
    public var amount: Int64
    public var status: String
    public var state: String
    public var republished: Int
    @Nullable public var lastRepublishedAt: String?
    @Nullable public var reportedAt: String?
    public var since: String
    public var correlationId: String
    /// Why it was reported rather than re-announced; null while it is re-announced.
    @Nullable public var reason: String?

    public init(
      paymentId: Int64, userId: Int64, amount: Int64, status: String, state: String, republished: Int,
      lastRepublishedAt: String?, reportedAt: String?, since: String, correlationId: String, reason: String? = nil
    ) {
      self.paymentId = paymentId
      self.userId = userId
      self.amount = amount
      self.status = status
      self.state = state
      self.republished = republished
      self.lastRepublishedAt = lastRepublishedAt
      self.reportedAt = reportedAt
      self.since = since
      self.correlationId = correlationId
      self.reason = reason
    }
  }

  public struct Stuck: Codable, Sendable, Hashable {
    public var sagas: [StuckSaga]
    public init(sagas: [StuckSaga]) { self.sagas = sagas }
  }
}
