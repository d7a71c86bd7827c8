/// The outbox rows the standbys' announcements named and the lease holder's relay has not read
/// yet, in the order heard (``OutboxRelay``). Bounded: while the relay cannot publish (a broker
/// outage) the standbys go on committing, and past `capacity` ids the list is dropped for one
/// read from the oldest unsent row, which finds those rows all the same.
struct AnnouncedRows {
  static let capacity = 8_192

  private var ids: [Int64] = []

  var isEmpty: Bool { ids.isEmpty }

  /// Adds `named`; false when that would pass `capacity`: the list is dropped instead, and the
  /// caller owes a read from the oldest unsent row.
  mutating func append(_ named: [Int64]) -> Bool {
    guard ids.count + named.count <= Self.capacity else {
      ids = []
      return false
    }
    ids.append(contentsOf: named)
    return true
  }

  /// Up to `limit` ids, oldest heard first; nil when none waits.
  mutating func take(limit: Int) -> [Int64]? {
    guard !ids.isEmpty, limit > 0 else { return nil }
    let taken = Array(ids.prefix(limit))
    ids.removeFirst(taken.count)
    return taken
  }
}
