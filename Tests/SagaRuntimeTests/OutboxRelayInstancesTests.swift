import Foundation
import MetricsTestKit
import SagaCore
import SagaKafka
import SagaStorage
import SagaTestSupport
import Testing

@testable import SagaRuntime

/// Two instances of a service on one PostgreSQL database (Docs/storage-engines.md, "Leases"): the
/// lease holder's relay publishes every row, and nobody in its process hands it
/// the other instance's. Their commits are announced to it instead.
@Suite("OutboxRelay with a standby instance", .postgresServer, .timeLimit(.minutes(2)))
struct OutboxRelayInstancesTests {
  /// The holder's own scans and idle reads are an hour apart here: only the announcement can
  /// wake it for the standby's row (before, the row waited for the holder's next wake, up to a
  /// second when idle; with these settings the test timed out).
  @Test("a standby's committed row wakes the lease holder's relay, which publishes it")
  func standbyRowWakesHolder() async throws {
    let fixture = try RelayFixture()
    try await StorageTablesSchema.twoInstances { holder, standby in
      var settings = RelaySettings()
      settings.idleInterval = .seconds(3600)
      settings.stragglerInterval = .seconds(3600)
      let metrics = TestMetrics()
      let relay = OutboxRelay(
        name: "payments", database: holder, producer: fixture.producer, settings: settings, metrics: metrics,
        logger: silentLogger)
      let publishing = try metrics.expectGauge(RelayMetrics.publishing, [("service", "payments")])
      #expect(publishing.lastValue == 0, "not publishing before the lease is taken")
      let task = Task { try await relay.run() }
      // The relay's first read, from the oldest row, comes with taking the lease: wait for it
      // to be done (a row of its own published) and for the holder to listen.
      try await Self.append("first", in: holder)
      #expect(try await fixture.readTopic(count: 1) == ["first"])
      try await eventually("the holder listens") { relay.statistics.listening }
      #expect(publishing.lastValue == 1)

      // What the standby's relay does while another instance holds the lease.
      standby.announceOutboxWrites(true)
      try await Self.append("from the standby", in: standby)
      #expect(try await fixture.readTopic(count: 2) == ["first", "from the standby"])
      #expect(relay.statistics.announcementsHeard >= 1)
      // Read by the id the announcement named, not by a scan from the oldest row.
      #expect(relay.statistics.announcedRounds == 1)
      #expect(
        metrics.counterTotal(label: RelayMetrics.standbyCommitsHeard, dimensions: [("service", "payments")])
          == Int64(relay.statistics.announcementsHeard))
      #expect(relay.statistics.leaseHeld == true)
      try await eventually("both rows marked sent") {
        try await holder.read { db in try Outbox.pendingCount(in: db) } == 0
      }
      await fixture.stop(task)
      #expect(!relay.statistics.listening)
      #expect(publishing.lastValue == 0, "a stopped relay publishes nothing")
    }
  }

  private static func append(_ value: String, in database: SagaDatabase) async throws {
    try await database.write { db in
      _ = try Outbox.append(OutboxMessage(topic: RelayFixture.topic, key: "k", payload: Array(value.utf8)), in: db)
    }
  }
}
