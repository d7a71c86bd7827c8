import Foundation
import SagaCore
import SagaKafka
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

@Suite("outbox.publish failpoint on the embedded cluster", .timeLimit(.minutes(2)))
struct OutboxFailpointTests {
  @Test("error(transient) count 3 at outbox.publish: rows stay pending, then all go out once it clears")
  func injectedPublishErrorsLoseNothing() async throws {
    let fixture = try RelayFixture()
    var settings = RelaySettings()
    // Long enough that the rows are still pending when the test looks after the first failure.
    settings.initialBackoff = .milliseconds(300)
    settings.maxBackoff = .milliseconds(600)
    let failpoints = Failpoints(enabled: true)
    try failpoints.set(.outboxPublish, .errorTransient, trigger: .count(3))
    let relay = fixture.relay(settings: settings, failpoints: failpoints)

    try await fixture.append((1...5).map { "m\($0)" })
    let task = start(relay)
    relay.wakeup.signal()
    try await eventually("the first injected failure") { failpoints.list().first.map { $0.fired >= 1 } ?? true }
    #expect(try await fixture.pendingCount() == 5, "nothing sent, nothing lost")
    #expect(relay.statistics.lastError?.contains("failpoint outbox.publish") == true)

    try await eventually("all rows sent once the failpoint disarmed") { try await fixture.pendingCount() == 0 }
    #expect(failpoints.list().isEmpty, "disarmed after 3 firings")
    await fixture.stop(task)

    // The topic holds each row exactly once, in id order.
    #expect(try await fixture.readTopic(count: 5) == (1...5).map { "m\($0)" })
  }
}
