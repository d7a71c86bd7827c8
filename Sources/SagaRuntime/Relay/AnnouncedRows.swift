/// The outbox rows the standbys' announcements named and the lease holder's relay has not read
/// yet, in the order heard (``OutboxRelay``). Bounded: while the relay cannot publish (a broker
/// outage) the standbys go on committing, and past `capacity` ids the list is dropped for one
/// read from the oldest unsent row, which finds those rows all the same.
struct AnnouncedRows {
  static let capacity = 8_192

  private var ids: [Int64] = []
  /// Ids were dropped: a read from the oldest unsent row is owed.
  private(set) var overflowed = false

  var isEmpty: Bool { ids.isEmpty }

  mutating func append(_ named: [Int64]) {
    guard !overflowed else { return }
    guard ids.count + named.count <= Self.capacity else {
      ids = []
      overflowed = true
      return
    }
    ids.append(contentsOf: named)
  }

  /// Up to `limit` ids, oldest heard first; nil when none waits.
  mutating func take(limit: Int) -> [Int64]? {
    guard !ids.isEmpty, limit > 0 else { return nil }
    let taken = Array(ids.prefix(limit))
    ids.removeFirst(taken.count)
    return taken
  }

  /// Whether ids were dropped since the last call: the caller then reads from the oldest row.
  mutating func takeOverflow() -> Bool {
    defer { overflowed = false }
    return overflowed
  }
}
