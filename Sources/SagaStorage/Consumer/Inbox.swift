public import Foundation

/// The inbox (Docs/design.md, "Local transaction per batch"): one row per event a consumer group has applied,
/// written in the same transaction as the event's effects. Kafka redelivers after a
/// crash or a rebalance; the inbox is what turns that redelivery into a no-op.
///
/// Keyed by (consumer group, event id) rather than by offset: the sweeper
/// re-announces a saga with a new event id on purpose, and a message copied to
/// another partition or replayed from the DLT keeps its event id.
public enum Inbox {
  /// Records that `group` is applying event `eventId` and returns true, or returns
  /// false if the group already did; the caller then skips the event's effects.
  /// Call it first inside the event's savepoint, so a failed attempt also forgets
  /// the claim.
  public static func claim(
    group: String, eventId: String, topic: String, partition: Int32, offset: Int64,
    at now: Date = Date(), in db: some SQLConnection
  ) throws -> Bool {
    // One statement, no read-then-write race: the primary key decides (the loser of two
    // instances racing for one redelivered record inserts nothing).
    try db.execute(
      """
      INSERT INTO inbox (consumer_group, event_id, topic, "partition", "offset", processed_at)
      VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
      """,
      [group, eventId, topic, partition, offset, now.millisecondsSinceEpoch]) == 1
  }

  /// What `claimAll` claims: one consumed event.
  public struct Claim: Sendable {
    public var eventId: String
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(eventId: String, topic: String, partition: Int32, offset: Int64) {
      self.eventId = eventId
      self.topic = topic
      self.partition = partition
      self.offset = offset
    }
  }

  /// `claim` for many events in one statement per 500 (a round trip each on PostgreSQL,
  /// where one per event was two per saga): true where the event is new to `group`, false
  /// where the group applied it already or an earlier element of `claims` has the same id.
  public static func claimAll(
    _ claims: some Collection<Claim>, group: String, at now: Date = Date(), in db: some SQLConnection
  ) throws -> [Bool] {
    try claimAllAhead(claims, group: group, at: now, in: db).claimed()
  }

  /// ``claimAll(_:group:at:in:)`` sent ahead of the transaction's next statement
  /// (``SQLConnection/queryAhead(_:_:)``): a consume batch's claims and its reads then cost
  /// PostgreSQL one wait. On PostgreSQL the rows travel as arrays, one statement whatever the
  /// batch's size (prepared once per connection); SQLite runs the claims at once.
  public static func claimAllAhead(
    _ claims: some Collection<Claim>, group: String, at now: Date = Date(), in db: some SQLConnection
  ) throws -> PendingClaims {
    let millis = now.millisecondsSinceEpoch
    var chunks: [(claims: [Claim], rows: SQLPendingRows)] = []
    for chunk in Array(claims).chunked(500) {
      let rows: SQLPendingRows
      switch db.engine {
      case .postgres:
        rows = try db.queryAhead(
          """
          INSERT INTO inbox (consumer_group, event_id, topic, "partition", "offset", processed_at)
          SELECT ?, c.event_id, c.topic, c."partition", c."offset", ?
          FROM unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS INT[]), CAST(? AS BIGINT[]))
            WITH ORDINALITY AS c(event_id, topic, "partition", "offset", n)
          ORDER BY c.n ON CONFLICT DO NOTHING RETURNING event_id
          """,
          [
            group, millis, chunk.map(\.eventId).textArrayLiteral, chunk.map(\.topic).textArrayLiteral,
            chunk.map { Int64($0.partition) }.bigintArrayLiteral, chunk.map(\.offset).bigintArrayLiteral,
          ])
      case .sqlite:
        var arguments: [any SQLBindable] = []
        arguments.reserveCapacity(chunk.count * 6)
        for claim in chunk {
          arguments += [group, claim.eventId, claim.topic, claim.partition, claim.offset, millis] as [any SQLBindable]
        }
        let values = Array(repeating: "(?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
        rows = try db.queryAhead(
          """
          INSERT INTO inbox (consumer_group, event_id, topic, "partition", "offset", processed_at)
          VALUES \(values) ON CONFLICT DO NOTHING RETURNING event_id
          """, arguments)
      }
      chunks.append((Array(chunk), rows))
    }
    return PendingClaims(chunks: chunks)
  }

  /// The claims of a batch written as one statement (`SagaDatabase.writeInOneStatement`): which
  /// of them the inbox holds already is read ahead (``SQLConnection/queryAhead(_:_:)``, with
  /// the batch's other reads), and ``HeldClaims/hold(in:)`` then holds a plain insert of the
  /// others, sent with the batch's writes. A claim another instance commits in between breaks
  /// the inbox's key, and the statement fails whole. PostgreSQL only (SQLite has no such write).
  public static func claimAllHeld(
    _ claims: [Claim], group: String, at now: Date = Date(), in db: some SQLConnection
  ) throws -> HeldClaims {
    // One index probe per id, as the claims' inserts make them: `event_id = ANY(<ids>)` over
    // the key ran 2 ms a batch at 1,000/s (20 times the probes), some batches 40-90 ms.
    let rows = try db.queryAhead(
      """
      SELECT x.event_id FROM unnest(CAST(? AS TEXT[])) AS i(event_id) CROSS JOIN LATERAL (
        SELECT event_id FROM inbox WHERE consumer_group = ? AND event_id = i.event_id LIMIT 1) AS x
      """, [Set(claims.map(\.eventId)).sorted().textArrayLiteral, group])
    return HeldClaims(claims: claims, group: group, millis: now.millisecondsSinceEpoch, rows: rows)
  }

  /// Claims read ahead (``claimAllHeld(_:group:at:in:)``), held once the batch's reads are done.
  public struct HeldClaims {
    fileprivate let claims: [Claim]
    fileprivate let group: String
    fileprivate let millis: Int64
    fileprivate let rows: SQLPendingRows

    /// Holds the insert of every claim the inbox did not hold (the first of each id in the
    /// batch), and answers which they were, in the claims' order; throws the read's failure.
    public func hold(in db: some SQLConnection) throws -> [Bool] {
      var seen = Set<String>()
      for row in try rows.rows() { seen.insert(try row.decode(0)) }
      return try claims.map { claim in
        guard seen.insert(claim.eventId).inserted else { return false }
        try db.executeDeferred(
          """
          INSERT INTO inbox (consumer_group, event_id, topic, "partition", "offset", processed_at)
          VALUES (?, ?, ?, ?, ?, ?)
          """, [group, claim.eventId, claim.topic, Int64(claim.partition), claim.offset, millis])
        return true
      }
    }
  }

  /// Claims sent ahead (``claimAllAhead(_:group:at:in:)``), read once needed.
  public struct PendingClaims {
    fileprivate let chunks: [(claims: [Claim], rows: SQLPendingRows)]

    /// ``claimAll(_:group:at:in:)``'s answer; throws the claims' failure.
    public func claimed() throws -> [Bool] {
      var claimed: [Bool] = []
      for (claims, rows) in chunks {
        var inserted = Set<String>()
        for row in try rows.rows() { inserted.insert(try row.decode(0)) }
        // The inserted row belongs to the first element with its id; later ones are copies.
        for claim in claims { claimed.append(inserted.remove(claim.eventId) != nil) }
      }
      return claimed
    }
  }

  /// Whether `group` has already applied `eventId`, without claiming it.
  public static func contains(group: String, eventId: String, in db: some SQLConnection) throws -> Bool {
    try db.value(
      Bool.self, "SELECT EXISTS (SELECT 1 FROM inbox WHERE consumer_group = ? AND event_id = ?)", [group, eventId]
    ) ?? false
  }

  /// Forgets events processed before `cutoff` and returns how many. After this a
  /// very late redelivery is applied again, so the retention must exceed any
  /// redelivery delay; the services' business keys remain the last line of defence.
  @discardableResult
  public static func purge(olderThan cutoff: Date, in db: some SQLConnection) throws -> Int {
    try db.execute("DELETE FROM inbox WHERE processed_at < ?", [cutoff.millisecondsSinceEpoch])
  }

  /// How many events the inbox remembers, for tests and diagnostics.
  public static func count(in db: some SQLConnection) throws -> Int {
    try db.value(Int.self, "SELECT COUNT(*) FROM inbox") ?? 0
  }
}

extension Array {
  /// Consecutive slices of at most `size` elements.
  fileprivate func chunked(_ size: Int) -> [ArraySlice<Element>] {
    stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
  }
}
