import Testing

@testable import SagaStorage

/// The `pg_notify` payload a standby's commit names its outbox rows in (``OutboxAnnouncement``).
@Suite("Outbox announcement payloads")
struct OutboxAnnouncementPayloadTests {
  @Test("ids travel as ascending runs and come back as they went")
  func roundTrip() {
    let ids: [Int64] = [12, 7, 8, 9, 40, 41, 100]
    let payload = OutboxAnnouncement(ids: ids).payload
    #expect(payload == "7-9,12,40-41,100")
    #expect(OutboxAnnouncement(payload: payload).ids == ids.sorted())
    #expect(OutboxAnnouncement(ids: [5]).payload == "5")
    #expect(OutboxAnnouncement(ids: [5, 5]).payload == "5", "a row named twice is read once")
  }

  @Test("unknown ids, and ids too many for a payload, say only that rows were written")
  func unknown() {
    #expect(OutboxAnnouncement(ids: nil).payload == "")
    #expect(OutboxAnnouncement(ids: []).payload == "")
    // Every other id: no runs, 20 bytes each, well past PostgreSQL's 8,000.
    let scattered = (1...1_000).map { Int64($0) * 2 + 1_000_000_000_000_000 }
    #expect(OutboxAnnouncement(ids: scattered).payload == "")
    // In one run they fit.
    let consecutive = (1...1_000).map { Int64($0) + 1_000_000_000_000_000 }
    #expect(OutboxAnnouncement(payload: OutboxAnnouncement(ids: consecutive).payload).ids == consecutive)
  }

  @Test("an empty or malformed payload (an older sagad's, another program's) asks for a scan")
  func malformed() {
    for payload in ["", "x", "1,,2", "3-1", "1-2-3", "-4", "0", "1-999999999", " 1", "1;2"] {
      #expect(OutboxAnnouncement(payload: payload).ids == nil, "\(payload)")
    }
  }
}
