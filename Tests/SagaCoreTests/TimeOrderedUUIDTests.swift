import Foundation
import SagaCore
import Testing

@Suite("Time-ordered event ids (UUID version 7)")
struct TimeOrderedUUIDTests {
  private func timestamp(_ id: UUID) -> UInt64 {
    withUnsafeBytes(of: id.uuid) { bytes in bytes.prefix(6).reduce(0) { $0 << 8 | UInt64($1) } }
  }

  @Test("version 7, RFC 9562 variant, the millisecond in the first 48 bits, canonical lowercase text")
  func layout() {
    let now = Date(timeIntervalSince1970: 1_767_225_600.123)
    let id = TimeOrderedUUID().next(now: now)
    #expect(id.uuid.6 >> 4 == 7)
    #expect(id.uuid.8 >> 6 == 0b10)
    #expect(timestamp(id) == 1_767_225_600_123)
    #expect(UUID(canonicalText: id.lowercasedText) == id)
  }

  @Test("ids of one generator increase, also many in one millisecond and after the clock went back")
  func increasing() {
    let generator = TimeOrderedUUID()
    let now = Date(timeIntervalSince1970: 1_767_225_600)
    var ids = (0..<10_000).map { _ in generator.next(now: now) }
    ids.append(generator.next(now: now.addingTimeInterval(-60)))
    let texts = ids.map(\.lowercasedText)
    #expect(texts == texts.sorted(), "text order is time order: the inbox appends")
    #expect(Set(texts).count == texts.count)
    #expect(timestamp(ids[0]) == 1_767_225_600_000)
    #expect(timestamp(ids[4_096]) == 1_767_225_600_001, "the 4,097th id in one millisecond borrows the next")
  }

  @Test("the random tail differs between ids of the same millisecond and counter")
  func random() {
    let now = Date(timeIntervalSince1970: 1_767_225_600)
    let a = TimeOrderedUUID().next(now: now)
    let b = TimeOrderedUUID().next(now: now)
    #expect(a != b)
    #expect(timestamp(a) == timestamp(b))
  }
}
