import Foundation
import SagaKafka
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

@Suite("OutboxRelay pipelining", .timeLimit(.minutes(2)))
struct OutboxRelayPipelineTests {
  @Test("rows committed while earlier rounds await their reports go out once each, in id order")
  func manyRoundsInFlight() async throws {
    let fixture = try RelayFixture()
    var settings = RelaySettings()
    settings.batchMax = 50  // a window smaller than what is appended, so the relay must refill it
    let relay = fixture.relay(settings: settings)
    let task = start(relay)

    // 40 commits of 5 rows, each waking the relay at once: rounds overlap.
    for commit in 0..<40 {
      try await fixture.append((0..<5).map { "m\(commit * 5 + $0)" })
      relay.wakeup.signal()
    }
    try await eventually("200 rows marked sent") { try await fixture.pendingCount() == 0 }
    #expect(relay.statistics.sent == 200 && relay.statistics.failedAttempts == 0)
    await fixture.stop(task)

    // A healthy broker: nothing re-sent, nothing skipped, nothing reordered.
    let seen = try await fixture.readTopic(count: 200, settle: .milliseconds(200))
    #expect(seen == (0..<200).map { "m\($0)" })
  }
}
