import Testing

@testable import SagaRuntime

/// The ids the standbys' announcements named, waiting for the lease holder's relay.
@Suite("Announced rows")
struct AnnouncedRowsTests {
  @Test("ids come out in the order heard, as many as there is room for")
  func order() {
    var rows = AnnouncedRows()
    let none = rows.take(limit: 10)
    #expect(none == nil)
    let keptFirst = rows.append([5, 6])
    let keptSecond = rows.append([3])
    #expect(keptFirst && keptSecond)
    let first = rows.take(limit: 2)
    let noRoom = rows.take(limit: 0)
    let second = rows.take(limit: 2)
    #expect(first == [5, 6])
    #expect(noRoom == nil)
    #expect(second == [3])
    #expect(rows.isEmpty)
  }

  /// A broker outage: the relay reads nothing while the standbys keep committing.
  @Test("past its capacity the list is dropped once for a read from the oldest row")
  func overflow() {
    var rows = AnnouncedRows()
    let full = rows.append(Array(1...Int64(AnnouncedRows.capacity)))
    #expect(full, "up to its capacity, kept")
    let dropped = !rows.append([Int64(AnnouncedRows.capacity) + 1])
    #expect(rows.isEmpty, "nothing kept that the read from the oldest row would not find")
    #expect(dropped)
    let again = !rows.append([42])
    #expect(!again, "owed once")
    let after = rows.take(limit: 5)
    #expect(after == [42])
  }
}
