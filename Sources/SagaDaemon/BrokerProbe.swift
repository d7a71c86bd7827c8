import Foundation
import SagaCore
import SagaKafka
import SagaRuntime
import Synchronization

/// Whether the Kafka cluster answers, for `status`: every `interval` it asks the cluster
/// for its brokers (a metadata request naming no topic) with a short timeout, on its own
/// admin client, and keeps the last answer. `status` reads that snapshot and never waits
/// for Kafka, so an unreachable cluster cannot hold up the admin socket.
final class BrokerProbe: Sendable {
  /// What the last probes found.
  struct Snapshot: Sendable, Hashable {
    /// When the last probe started; nil before the first.
    var checkedAt: Date?
    /// When a probe was last answered; nil if none ever was.
    var answeredAt: Date?
    /// The brokers of the last answer.
    var brokers: [ClusterBrokers.Broker] = []
    var answeredBy: String?
    /// The cluster's id in the last answer.
    var clusterID: String?
    /// Why the last probe failed; nil when it was answered.
    var lastError: String?
    /// When the probe now waiting for the cluster started; nil between probes.
    var probingSince: Date?
  }

  /// `kafka.brokers` as configured, one entry per bootstrap address.
  let bootstrapServers: [String]
  let interval: Duration
  let timeout: Duration
  private let admin: KafkaAdmin
  private let state = Mutex(Snapshot())
  /// What the probing interval passes on; its wall time dates the answers.
  private let clock: SagaClock

  init(
    bootstrapServers: String, admin: KafkaAdmin, interval: Duration, timeout: Duration = .seconds(2),
    clock: SagaClock = .continuous
  ) {
    self.clock = clock
    self.bootstrapServers = bootstrapServers.split(separator: ",").map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    self.admin = admin
    self.interval = interval
    self.timeout = timeout
  }

  /// Probes until cancelled.
  func run() async {
    while !Task.isCancelled {
      await probe()
      try? await clock.sleep(for: interval)
    }
  }

  /// Asks the cluster once and records the answer or the error.
  func probe() async {
    let started = clock.wallTime
    state.withLock { $0.probingSince = started }
    do {
      let answer = try await admin.brokers(timeout: timeout)
      state.withLock {
        $0 = Snapshot(
          checkedAt: started, answeredAt: clock.wallTime, brokers: answer.brokers, answeredBy: answer.answeredBy,
          clusterID: answer.clusterID, lastError: nil)
      }
    } catch {
      state.withLock {
        $0.checkedAt = started
        $0.lastError = error.description
        $0.probingSince = nil
      }
    }
  }

  var snapshot: Snapshot { state.withLock { $0 } }

  /// Probes once and says whether the cluster is librdkafka's mock cluster (the development
  /// broker, `RuntimeSettings.mockCluster`); nil when it did not answer within `timeout`.
  func askMockCluster() async -> Bool? {
    await probe()
    let snapshot = snapshot
    guard snapshot.lastError == nil else { return nil }
    return ClusterBrokers.isMockCluster(id: snapshot.clusterID)
  }

  /// An answer older than this no longer counts: a probe wedged behind a dead connection
  /// would otherwise leave the last good answer standing.
  var staleAfter: Duration { max(interval * 3, timeout * 3, .seconds(10)) }

  /// Whether a metadata request was answered within `staleAfter` and the last one did not fail.
  func reachable(now: Date = Date()) -> Bool {
    let snapshot = snapshot
    guard let answered = snapshot.answeredAt, snapshot.lastError == nil else { return false }
    return now.timeIntervalSince(answered) <= staleAfter.metricSeconds
  }

  func close() async {
    await admin.close()
  }
}
