import SagaCore
import Testing

/// Event, trace and span ids draw from ``BufferedRandom``: its buffer must be refilled with
/// fresh randomness, never handed out twice, also when tasks draw at once.
@Suite("Buffered randomness")
struct BufferedRandomTests {
  @Test("draws across many refills, from concurrent tasks, are all distinct and about half their bits set")
  func distinctAndBalanced() async {
    let draws = await withTaskGroup(of: [UInt64].self) { group in
      for _ in 0..<8 {
        group.addTask {
          var generator = BufferedRandom()
          return (0..<2_000).map { _ in generator.next() }
        }
      }
      return await group.reduce(into: []) { $0 += $1 }
    }
    #expect(draws.count == 16_000)
    #expect(Set(draws).count == draws.count, "a word handed out twice")
    let ones = draws.reduce(0) { $0 + $1.nonzeroBitCount }
    let share = Double(ones) / Double(draws.count * 64)
    #expect((0.49...0.51).contains(share), "share of set bits \(share)")
  }
}
