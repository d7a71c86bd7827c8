// The `outbox list|show|discard` documents. Times are RFC 3339 strings (UTC, ms).
extension AdminJSON {
  /// One outbox row of `outbox list`.
  public struct OutboxRow: Codable, Sendable, Hashable {
    /// The service whose outbox holds it: `payments` or `points`.
    public var service: String
    public var id: Int64
    /// `pending`, `sent` or `closed` (never sent: dead-lettered or discarded).
    public var state: String
    public var topic: String
    @Nullable public var key: String?
    public var bytes: Int
    public var createdAt: String
    /// Failed publish attempts so far, and the latest one's error.
    public var attempts: Int
    @Nullable public var lastError: String?
    @Nullable public var sentAt: String?
    @Nullable public var closedReason: String?

    public init(
      service: String, id: Int64, state: String, topic: String, key: String?, bytes: Int, createdAt: String,
      attempts: Int, lastError: String?, sentAt: String?, closedReason: String?
    ) {
      self.service = service
      self.id = id
      self.state = state
      self.topic = topic
      self.key = key
      self.bytes = bytes
      self.createdAt = createdAt
      self.attempts = attempts
      self.lastError = lastError
      self.sentAt = sentAt
      self.closedReason = closedReason
    }
  }

  /// `outbox list`: the rows per service in id order; `nextAfter` is the `--after` of the
  /// next page (with `--service`), null on the last one.
  public struct OutboxRows: Codable, Sendable, Hashable {
    public var rows: [OutboxRow]
    @Nullable public var nextAfter: Int64?
    public init(rows: [OutboxRow], nextAfter: Int64?) {
      self.rows = rows
      self.nextAfter = nextAfter
    }
  }

  /// `outbox show` and `outbox discard`: one row with its headers and value; after a
  /// discard, the dead letter that keeps it.
  public struct OutboxRowDetail: Codable, Sendable, Hashable {
    public var row: OutboxRow
    public var headers: [DeadLetterHeader]
    /// The value as UTF-8 text; null when it is not text (`row.bytes` tells its size).
    @Nullable public var value: String?
    @Nullable public var deadLetterId: Int64?

    public init(row: OutboxRow, headers: [DeadLetterHeader], value: String?, deadLetterId: Int64?) {
      self.row = row
      self.headers = headers
      self.value = value
      self.deadLetterId = deadLetterId
    }
  }
}
