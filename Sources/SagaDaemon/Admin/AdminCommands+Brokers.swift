import AdminProtocol
import Foundation
import SagaKafka

/// Broker reachability in `status`, from the daemon's `BrokerProbe`: a snapshot, so
/// `status` answers at once even while the cluster does not.
extension AdminCommands {
  /// Nil in a process without the probe (tests on bare databases).
  func kafkaDocument(now: Date = Date()) -> AdminJSON.Kafka? {
    guard let probe = daemon?.brokers else { return nil }
    let snapshot = probe.snapshot
    return AdminJSON.Kafka(
      bootstrapServers: probe.bootstrapServers, reachable: probe.reachable(now: now),
      brokers: snapshot.brokers.map { AdminJSON.Kafka.Broker(id: $0.id, host: $0.host, port: $0.port) },
      answeredBy: snapshot.answeredBy,
      lastAnswerSecondsAgo: snapshot.answeredAt.map { max(0, now.timeIntervalSince($0)) },
      lastCheckSecondsAgo: snapshot.checkedAt.map { max(0, now.timeIntervalSince($0)) }, lastError: snapshot.lastError,
      clusterId: snapshot.clusterID)
  }

  /// `kafka: reachable, 3 brokers (1 host:9092, …), answered 0.4 s ago; bootstrap host:9092`
  /// or `kafka: UNREACHABLE …` with the last error.
  static func kafkaLine(_ kafka: AdminJSON.Kafka) -> String {
    let bootstrap = "bootstrap \(kafka.bootstrapServers.joined(separator: ","))"
    let answered = kafka.lastAnswerSecondsAgo.map { String(format: "last answer %.1f s ago", $0) } ?? "never answered"
    guard kafka.reachable else {
      let checked = kafka.lastCheckSecondsAgo == nil ? "not probed yet" : answered
      return "kafka: UNREACHABLE (\(checked); \(bootstrap))" + (kafka.lastError.map { ": \($0)" } ?? "")
    }
    let brokers = kafka.brokers.map { "\($0.id) \($0.host):\($0.port)" }.joined(separator: ", ")
    let count = "\(kafka.brokers.count) broker\(kafka.brokers.count == 1 ? "" : "s")"
    // The development broker says so: its latencies and durability are not a cluster's.
    var cluster = ""
    if let id = kafka.clusterId {
      cluster = "; cluster \(id)" + (ClusterBrokers.isMockCluster(id: id) ? " (development broker)" : "")
    }
    return "kafka: reachable, \(count) (\(brokers)), \(answered); \(bootstrap)\(cluster)"
  }
}
