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
    rows.append([5, 6])
    rows.append([3])
    let first = rows.take(limit: 2)
    let noRoom = rows.take(limit: 0)
    let second = rows.take(limit: 2)
    #expect(first == [5, 6])
    #expect(noRoom == nil)
    #expect(second == [3])
    #expect(rows.isEmpty)
    let overflowed = rows.takeOverflow()
    #expect(!overflowed)
  }

  /// A broker outage: the relay reads nothing while the standbys keep committing.
  @Test("past its capacity the list is dropped once for a read from the oldest row")
  func overflow() {
    var rows = AnnouncedRows()
    rows.append(Array(1...Int64(AnnouncedRows.capacity)))
    let full = rows.takeOverflow()
    #expect(!full)
    rows.append([Int64(AnnouncedRows.capacity) + 1])
    #expect(rows.isEmpty, "nothing kept that the read from the oldest row would not find")
    let dropped = rows.takeOverflow()
    let again = rows.takeOverflow()
    #expect(dropped)
    #expect(!again, "owed once")
    rows.append([42])
    let after = rows.take(limit: 5)
    #expect(after == [42])
  }
}
