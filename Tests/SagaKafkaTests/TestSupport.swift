import Foundation
import Logging
import SagaKafka
import SagaTestSupport
import Synchronization
import Testing

/// A name no other test uses, so tests can share nothing and run in parallel.
func uniqueName(_ prefix: String) -> String {
  "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}

/// Log lines captured from librdkafka, so tests can await what the client reports.
final class LogCapture: Sendable {
  struct Entry: Sendable {
    let level: Logger.Level
    let message: String
    let metadata: [String: String]
  }

  private let entries = Mutex<[Entry]>([])

  var all: [Entry] { entries.withLock { $0 } }

  func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }

  func logger(_ label: String) -> Logger {
    Logger(label: label) { _ in CapturingLogHandler(capture: self) }
  }

  func contains(_ predicate: (Entry) -> Bool) -> Bool { entries.withLock { $0.contains(where: predicate) } }
}

struct CapturingLogHandler: LogHandler {
  let capture: LogCapture
  var metadata: Logger.Metadata = [:]
  var logLevel: Logger.Level = .debug

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    var merged: [String: String] = [:]
    for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
      merged[key] = "\(value)"
    }
    capture.append(.init(level: event.level, message: "\(event.message)", metadata: merged))
  }
}

/// A consumer configuration tuned for quick group changes on the mock cluster.
func testConsumerConfiguration(_ cluster: EmbeddedKafkaCluster, group: String) -> KafkaConsumerConfiguration {
  var config = KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupId: group)
  config.sessionTimeout = .seconds(4)
  config.heartbeatInterval = .milliseconds(500)
  config.overrides["topic.metadata.refresh.interval.ms"] = "1000"
  return config
}

/// Polls `consumer` until `count` records arrived (or fails after `timeout`).
func consume(
  _ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(30)
) async throws -> [KafkaConsumerMessage] {
  var received: [KafkaConsumerMessage] = []
  try await eventually("\(count) records (have \(received.count))", timeout: timeout) {
    received += try await consumer.poll(maxMessages: 100, timeout: .milliseconds(100))
    return received.count >= count
  }
  return received
}

/// Records every batch a background poll loop receives.
actor Inbox {
  private(set) var messages: [KafkaConsumerMessage] = []
  func add(_ batch: [KafkaConsumerMessage]) { messages += batch }
  var values: Set<String> { Set(messages.compactMap(\.valueString)) }
}

/// Polls `consumer` in the background, storing and committing what it gets, until cancelled.
func pollLoop(_ consumer: KafkaConsumer, into inbox: Inbox) -> Task<Void, Never> {
  Task {
    while !Task.isCancelled {
      guard let batch = try? await consumer.poll(maxMessages: 100, timeout: .milliseconds(50)) else { continue }
      if batch.isEmpty { continue }
      await inbox.add(batch)
      _ = try? consumer.store(processed: batch)
      try? await consumer.commit()
    }
  }
}
