/// What a standby instance's commit tells the relay lease holder about the outbox rows it wrote
/// (Docs/storage-engines.md, "Leases"): their ids, so that the holder reads exactly those rows by
/// key, or nothing more than "some", which sends it to read from the oldest unsent row.
///
/// On the wire it is the `pg_notify` payload: the ids in ascending runs, `"41-56,60"`, empty for
/// "some". A commit whose rows would not fit PostgreSQL's 8,000-byte payload, or whose ids are not
/// all known (an insert that takes its id from the sequence as it runs), says "some". An older
/// sagad sends an empty payload, and so says "some" too.
public struct OutboxAnnouncement: Sendable, Equatable {
  /// The rows written, ascending; nil: not known (read from the oldest unsent row).
  public var ids: [Int64]?

  /// What one payload may hold: PostgreSQL refuses a longer one (and the whole commit with it).
  static let maxPayloadBytes = 7_900

  public init(ids: [Int64]?) {
    self.ids = ids
  }

  /// The announcement a payload carries: ids for a well-formed list, else "some rows".
  public init(payload: String) {
    guard !payload.isEmpty else {
      self.ids = nil
      return
    }
    var ids: [Int64] = []
    for run in payload.split(separator: ",", omittingEmptySubsequences: false) {
      let ends = run.split(separator: "-", omittingEmptySubsequences: false)
      guard ends.count <= 2, let first = Int64(ends[0]), first > 0,
        let last = ends.count == 2 ? Int64(ends[1]) : first, last >= first, last - first < 100_000
      else {
        self.ids = nil
        return
      }
      ids.append(contentsOf: first...last)
    }
    self.ids = ids.sorted()
  }

  /// The `pg_notify` payload: the ids in ascending runs, or empty when they are not known or
  /// would not fit.
  public var payload: String {
    guard let ids, !ids.isEmpty else { return "" }
    var text = ""
    let sorted = ids.sorted()
    var start = sorted[0]
    var end = start
    func close() {
      if !text.isEmpty { text += "," }
      text += start == end ? "\(start)" : "\(start)-\(end)"
    }
    for id in sorted.dropFirst() where id != end {
      if id == end + 1 {
        end = id
      } else {
        close()
        start = id
        end = id
      }
    }
    close()
    return text.utf8.count <= Self.maxPayloadBytes ? text : ""
  }
}
