import Foundation
import GRDB
import SagaCore
import SagaKafka
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

/// Rows an earlier version left in the outbox (every header in one JSON column) go out
/// after the upgrade to the envelope columns with the same headers, byte for byte.
@Suite("OutboxRelay after the outbox's envelope-column upgrade", .timeLimit(.minutes(2)))
struct OutboxUpgradeRelayTests {
  @Test("rows written before the upgrade publish byte-identical headers after it")
  func upgradedRowsPublishTheSameHeaders() async throws {
    let envelope = EventEnvelope(
      eventType: .reservationCompleted, trace: .start(),
      extraHeaders: [RecordHeader(name: HeaderName.republished, value: "1")])
    // A saga event, and a dead letter's copy of a peer's headers (binary, null, no envelope).
    let stored: [[RecordHeader]] = [
      envelope.headers,
      [RecordHeader(name: "x-bin", bytes: [0x00, 0xFF]), RecordHeader(name: "x-null", bytes: nil)],
    ]
    let columns = [
      "[" + envelope.headers.map { #"["\#($0.name)","\#($0.value)"]"# }.joined(separator: ",") + "]",
      #"[{"name":"x-bin","base64":"AP8="},{"name":"x-null"}]"#,
    ]
    let fixture = try RelayFixture(prepare: { path in
      let old = try DatabaseQueue(path: path)
      try SagaDatabase.migrator().migrate(old, upTo: "storage-v2-dead-lettered")
      try old.write { db in
        for (index, column) in columns.enumerated() {
          try db.execute(
            "INSERT INTO outbox (topic, message_key, payload, headers, created_at) VALUES (?, 'k', ?, ?, 0)",
            [RelayFixture.topic, Data("m\(index)".utf8), column])
        }
      }
      try old.close()
    })
    let relay = fixture.relay(settings: RelaySettings())
    let task = start(relay)
    relay.wakeup.signal()
    try await eventually("both rows sent") { try await fixture.pendingCount() == 0 }
    await fixture.stop(task)

    var config = KafkaConsumerConfiguration(bootstrapServers: fixture.cluster.bootstrapServers, groupId: "reader")
    config.sessionTimeout = .seconds(4)
    let consumer = try KafkaConsumer(configuration: config, logger: silentLogger)
    try await consumer.assign([TopicPartitionOffset(topic: RelayFixture.topic, partition: 0, offset: -2)])
    var received: [KafkaConsumerMessage] = []
    try await eventually("both records on the topic") {
      received += try await consumer.poll(maxMessages: 10, timeout: .milliseconds(50))
      return received.count >= 2
    }
    await consumer.close()

    let typeId = try #require(SpringTypeIds.standard.typeId(for: .reservationCompleted))
    // The relay adds Spring's type id last on every row of a saga topic, as before.
    let expected = stored.map { $0 + [RecordHeader(name: HeaderName.springTypeId, value: typeId)] }
    #expect(received.map(\.valueString) == ["m0", "m1"])
    #expect(received.map { $0.headers.map(\.name) } == expected.map { $0.map(\.name) })
    #expect(received.map { $0.headers.map(\.bytes) } == expected.map { $0.map(\.bytes) })
  }
}
