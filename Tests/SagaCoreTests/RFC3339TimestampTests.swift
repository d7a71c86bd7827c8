import Foundation
import SagaCore
import Testing

/// The `occurredAt` header format. Expected strings were produced with GNU `date -u`.
@Suite("RFC 3339 timestamps", .timeLimit(.minutes(2)))
struct RFC3339TimestampTests {
  @Test(
    "formats milliseconds since the epoch",
    arguments: [
      (Int64(0), "1970-01-01T00:00:00.000Z"),
      (951_782_400_000, "2000-02-29T00:00:00.000Z"),
      (1_709_164_800_000, "2024-02-29T00:00:00.000Z"),
      (1_735_689_599_999, "2024-12-31T23:59:59.999Z"),
      (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
      (-1, "1969-12-31T23:59:59.999Z"),
      (253_402_300_799_000, "9999-12-31T23:59:59.000Z"),
      (-62_167_219_200_000, "0000-01-01T00:00:00.000Z"),
      (1_740_821_400_007, "2025-03-01T09:30:00.007Z"),
    ])
  func format(_ milliseconds: Int64, _ expected: String) {
    #expect(RFC3339Timestamp.format(milliseconds: milliseconds) == expected)
    #expect(RFC3339Timestamp.parse(expected) == milliseconds)
  }

  @Test("parses offsets, fractions of any length and lowercase designators")
  func parseVariants() {
    #expect(RFC3339Timestamp.parse("2025-03-01T18:30:00.123+09:00") == 1_740_821_400_123)
    #expect(RFC3339Timestamp.parse("2025-03-01T04:00:00-05:30") == 1_740_821_400_000)
    #expect(RFC3339Timestamp.parse("2025-03-01t09:30:00z") == 1_740_821_400_000)
    #expect(RFC3339Timestamp.parse("2025-03-01T09:30:00.1Z") == 1_740_821_400_100)
    #expect(RFC3339Timestamp.parse("2025-03-01T09:30:00.123456789Z") == 1_740_821_400_123)
    #expect(RFC3339Timestamp.parse("2016-12-31T23:59:60Z") == 1_483_228_799_999)
  }

  @Test(
    "rejects malformed timestamps",
    arguments: [
      "", "2025-03-01", "2025-03-01T09:30:00", "2025-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
      "2025-03-01T24:00:00Z", "2025-03-01T09:60:00Z", "2025-03-01T09:30:00.Z", "2025-03-01T09:30:00+0900",
      "2025-3-01T09:30:00Z", "2025-03-01T09:30:00Z ", "yesterday",
    ])
  func rejects(_ text: String) {
    #expect(RFC3339Timestamp.parse(text) == nil)
  }

  @Test("agrees with Foundation's ISO 8601 formatter on random instants")
  func matchesFoundation() {
    var generator = SeededGenerator(seed: 2025)
    let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    for _ in 0..<500 {
      let milliseconds = Int64.random(in: 0...4_102_444_800_000, using: &generator)
      let text = RFC3339Timestamp.format(milliseconds: milliseconds)
      let date = try? style.parse(text)
      #expect(date.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) } == milliseconds, "\(text)")
    }
  }

  @Test("out-of-range instants are clamped, not trapped")
  func clamps() {
    #expect(RFC3339Timestamp.format(milliseconds: Int64.max) == "9999-12-31T23:59:59.999Z")
    #expect(RFC3339Timestamp.format(milliseconds: Int64.min) == "0000-01-01T00:00:00.000Z")
  }
}
