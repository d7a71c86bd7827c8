import Foundation
public import Logging
public import SagaKafka
public import SagaStorage
public import ServiceLifecycle
import Synchronization

/// Publishes one service database's outbox (DESIGN.md §4): woken right after each
/// commit that wrote rows, it reads unsent rows in id order, hands them to the
/// idempotent producer, and marks a row sent only once librdkafka reports it
/// `persisted`. A broker outage leaves rows unsent; nothing is lost, and they go out
/// in order when it returns.
public final class OutboxRelay: Service, Sendable {
  public let name: String
  public let wakeup: Wakeup
  private let database: SagaDatabase
  private let producer: KafkaProducer
  private let settings: RelaySettings
  private let logger: Logger
  private let counters = Mutex(RelayStatistics())

  public init(
    name: String, database: SagaDatabase, producer: KafkaProducer, settings: RelaySettings = RelaySettings(),
    wakeup: Wakeup = Wakeup(), logger: Logger
  ) {
    self.name = name
    self.database = database
    self.producer = producer
    self.settings = settings
    self.wakeup = wakeup
    var logger = logger
    logger[metadataKey: "relay"] = "\(name)"
    self.logger = logger
  }

  public var statistics: RelayStatistics { counters.withLock { $0 } }

  public func run() async throws {
    var backoff = settings.initialBackoff
    var lastPurge = ContinuousClock.now
    await withGracefulShutdownHandler {
      while !Task.isCancelled && !Task.isShuttingDownGracefully {
        do {
          let outcome = try await publishRound()
          if outcome.unsent > 0 {
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, settings.maxBackoff)
            continue
          }
          backoff = settings.initialBackoff
          if outcome.sent == settings.batchMax { continue }  // more may be waiting
          if ContinuousClock.now - lastPurge > settings.purgeInterval {
            lastPurge = ContinuousClock.now
            let purged = try await database.purge(settings.retention)
            logger.debug("purged", metadata: ["outbox": "\(purged.outboxRows)", "inbox": "\(purged.inboxRows)"])
          }
          await wakeup.wait(timeout: settings.idleInterval)
        } catch {
          counters.withLock { $0.lastError = "\(error)" }
          logger.error("relay round failed", metadata: ["error": "\(error)"])
          try? await Task.sleep(for: backoff)
          backoff = min(backoff * 2, settings.maxBackoff)
        }
      }
    } onGracefulShutdown: {
      self.wakeup.signal()
    }
    await drain()
  }

  /// On shutdown: one last round so rows committed just before it go out.
  private func drain() async {
    do {
      let outcome = try await publishRound()
      logger.info("stopped", metadata: ["sent": "\(outcome.sent)", "unsent": "\(outcome.unsent)"])
    } catch {
      logger.warning("final outbox round failed; rows stay for the next start", metadata: ["error": "\(error)"])
    }
  }

  /// Reads up to `batchMax` unsent rows, publishes them and marks the persisted ones.
  @discardableResult
  public func publishRound() async throws -> (sent: Int, unsent: Int) {
    let limit = settings.batchMax
    let rows = try await database.read { db in try Outbox.pending(limit: limit, in: db) }
    guard !rows.isEmpty else { return (0, 0) }
    let tickets = try await producer.send(rows.map(Self.kafkaMessage))
    var persisted: [Int64] = []
    var failed: [Int64] = []
    var lastError: KafkaError?
    for (row, ticket) in zip(rows, tickets) {
      let report = await ticket.report
      if report.isPersisted {
        persisted.append(row.id)
      } else {
        failed.append(row.id)
        lastError = report.error
      }
    }
    let (sentIDs, failedIDs) = (persisted, failed)
    try await database.write { db in
      if !sentIDs.isEmpty { _ = try Outbox.markSent(ids: sentIDs, in: db) }
      if !failedIDs.isEmpty { _ = try Outbox.recordFailedAttempt(ids: failedIDs, in: db) }
    }
    counters.withLock { stats in
      stats.sent += persisted.count
      stats.failedAttempts += failed.count
      if let lastError { stats.lastError = "\(lastError)" }
    }
    if let lastError {
      logger.warning("rows not persisted, will retry", metadata: ["count": "\(failed.count)", "error": "\(lastError)"])
    }
    return (persisted.count, failed.count)
  }

  static func kafkaMessage(_ row: OutboxRecord) -> KafkaProducerMessage {
    KafkaProducerMessage(
      topic: row.topic, key: row.key.map { Array($0.utf8) }, value: row.payload,
      headers: row.headers.map { KafkaHeader(key: $0.name, value: $0.value) })
  }
}
