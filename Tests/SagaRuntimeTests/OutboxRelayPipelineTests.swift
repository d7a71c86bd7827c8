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

  @Test("a row committed below the rounds in flight goes out while the load goes on, not once the pipeline drains")
  func straggler() async throws {
    let fixture = try RelayFixture()
    // Slow deliveries: a steady trickle of rows keeps rounds in flight at all times.
    try fixture.cluster.setBrokerRoundTripTime(1, milliseconds: 300)
    // SQLite commits rows in id order, so its relay never scans for stragglers; this one
    // plays PostgreSQL's concurrent writers (an id drawn early, committed late) and asks for
    // PostgreSQL's scan.
    var settings = RelaySettings()
    settings.stragglerInterval = RelaySettings.stragglerInterval(for: .postgres)
    let relay = fixture.relay(settings: settings)
    let task = start(relay)
    try await fixture.database.write { db in
      try Outbox.appendDeferred(
        OutboxMessage(topic: RelayFixture.topic, key: "k", payload: Array("first".utf8)), id: 1_000, in: db)
    }
    let database = fixture.database
    let feeding = Task {
      var index = 0
      while !Task.isCancelled {
        let message = OutboxMessage(topic: RelayFixture.topic, key: "k", payload: Array("load-\(index)".utf8))
        try await database.write { db in _ = try Outbox.append(message, in: db) }
        relay.wakeup.signal()
        index += 1
        try await Task.sleep(for: .milliseconds(20))
      }
    }
    try await eventually("rounds in flight") { relay.statistics.sent > 0 }
    // Another writer's transaction that drew its id before the others and commits now.
    try await fixture.database.write { db in
      try Outbox.appendDeferred(
        OutboxMessage(topic: RelayFixture.topic, key: "s", payload: Array("straggler".utf8)), id: 500, in: db)
    }
    relay.wakeup.signal()
    try await eventually("the straggler is sent while rows keep coming", timeout: .seconds(10)) {
      try await fixture.database.read { db in
        try db.value(Int.self, "SELECT COUNT(*) FROM outbox WHERE id = 500 AND sent_at IS NOT NULL") == 1
      }
    }
    feeding.cancel()
    _ = try? await feeding.value
    await fixture.stop(task)
  }
}
