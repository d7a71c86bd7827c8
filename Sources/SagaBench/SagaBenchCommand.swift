import ArgumentParser
import Foundation
import GRDB
import Logging
import Payments
import Points
import SagaCore
import SagaDaemon
import SagaKafka
import SagaRuntime
import SagaStorage
import Synchronization

/// `sagad-bench saga`: N payments through both services in one process on an embedded
/// cluster, with real database files. Prints sagas/s end to end (first payment
/// accepted → last payment REWARDED) and the payment-commit → reward-commit latency
/// percentiles, as one JSON line.
struct SagaBenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "saga", abstract: "Measure end-to-end sagas/s and payment → reward latency in one process.")

  @Option(help: "Payments to make.") var payments = 20_000
  @Option(help: "Distinct users (each enrolled, with a large wallet).") var users = 1_000
  @Option(help: "Concurrent payers.") var concurrency = 64
  @Option(help: "Target payments per second; 0 = as fast as possible.") var rate = 0
  @Option(help: "Directory for the databases (default: a temporary one, removed after).") var stateDir: String?
  @Option(help: "storage.synchronous: full or normal.") var synchronous = "full"
  @Option(help: "Consumers' fetch.wait.max.ms (the mock broker holds an empty fetch this long); default: the node's.")
  var fetchWait: Int?

  func run() async throws {
    var logger = Logger(label: "sagad-bench")
    logger.logLevel = .error
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: logger)
    for topic in TopicCatalog.allTopics { try cluster.createTopic(topic, partitions: 3) }
    let directory = stateDir ?? NSTemporaryDirectory() + "sagad-bench-" + UUID().uuidString
    defer { if stateDir == nil { try? FileManager.default.removeItem(atPath: directory) } }
    var configuration = SagaNodeConfiguration(stateDirectory: directory, bootstrapServers: cluster.bootstrapServers)
    configuration.synchronous = synchronous == "normal" ? .normal : .full
    configuration.statisticsInterval = nil
    if let fetchWait { configuration.consumerProperties["fetch.wait.max.ms"] = String(fetchWait) }
    let node = try SagaNode(configuration: configuration, logger: logger)
    // A node that stops by itself (a worker threw: nothing supervises it here) would
    // leave the wait below to time out after 10 minutes; fail at once with its error.
    let stopped = Mutex<String?>(nil)
    let running = Task {
      do {
        try await node.run()
        stopped.withLock { $0 = "the node stopped" }
      } catch {
        stopped.withLock { $0 = "the node failed: \(error)" }
      }
    }
    guard let paymentsService = node.payments, let pointsService = node.points else { return }
    for user in 1...Int64(users) {
      try await paymentsService.addUser(id: user, initialBalance: Int64.max / 4)
      _ = try await pointsService.enroll(userId: user)
    }

    // Measure the steady state: every worker has joined its group (the mock cluster
    // takes ~3 s for a first join) before the first payment.
    while node.workers.contains(where: { $0.assignment.isEmpty }) { try await Task.sleep(for: .milliseconds(20)) }

    let total = payments
    let (users, concurrency, rate) = (Int64(self.users), concurrency, rate)
    // On stderr, so that a profiler can attach for the measured phase only.
    FileHandle.standardError.write(Data("sagad-bench: measuring \(total) payments\n".utf8))
    let groupsBefore = paymentsService.payStatistics
    let cpuBefore = Self.processCPUSeconds()
    let clock = ContinuousClock()
    let start = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
      for lane in 0..<concurrency {
        group.addTask {
          var index = lane
          while index < total {
            if rate > 0 {
              let due = start.advanced(by: .seconds(Double(index) / Double(rate)))
              if due > clock.now { try await Task.sleep(until: due) }
            }
            let user = Int64(index) % users + 1
            _ = try await node.pay(
              PayRequest(userId: user, scheduleId: Int64(index) + 1, seat: nil, amount: 10_000 + Int64(index % 1000)))
            index += concurrency
          }
        }
      }
      try await group.waitForAll()
    }
    let accepted = clock.now - start
    let groups = paymentsService.payStatistics
    var finished = 0
    while clock.now - start < .seconds(600) {
      finished = try await paymentsService.database.storage.read { db in
        try db.value(Int.self, "SELECT COUNT(*) FROM payments WHERE status = 'REWARDED'") ?? 0
      }
      if finished >= total { break }
      if let failure = stopped.withLock({ $0 }) {
        throw ValidationError("\(failure) after \(finished) of \(total) sagas")
      }
      try await Task.sleep(for: .milliseconds(5))
    }
    let elapsed = clock.now - start
    let cpuSeconds = Self.processCPUSeconds() - cpuBefore
    // Payment commit (payments.created_at) → reward commit (point_ledger.created_at),
    // both in ms on this machine's clock.
    let paidAt = try await paymentsService.database.storage.read { db in
      try Dictionary(
        uniqueKeysWithValues: db.query("SELECT id, created_at FROM payments").map {
          (($0["id"] as Int64?) ?? 0, ($0["created_at"] as Int64?) ?? 0)
        })
    }
    let rewardedAt = try await pointsService.database.storage.read { db in
      try db.query("SELECT payment_id, created_at FROM point_ledger").map {
        (($0["payment_id"] as Int64?) ?? 0, ($0["created_at"] as Int64?) ?? 0)
      }
    }
    let latencies = rewardedAt.compactMap { id, at in paidAt[id].map { Double(at - $0) } }.sorted()
    func percentile(_ p: Double) -> Double {
      latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
    }
    running.cancel()
    await running.value
    await cluster.close()
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let acceptSeconds = Double(accepted.components.seconds) + Double(accepted.components.attoseconds) / 1e18
    let result: [String: Double] = [
      "payments": Double(total), "rewarded": Double(finished), "seconds": seconds,
      "sagasPerSecond": Double(finished) / seconds, "paymentsAcceptedPerSecond": Double(total) / acceptSeconds,
      "p50Ms": percentile(0.5), "p99Ms": percentile(0.99), "maxMs": latencies.last ?? 0,
      "targetRate": Double(rate),
      // CPU (user + system, every thread: services, librdkafka, the in-process broker)
      // per saga: steadier than sagas/s on a shared machine, and what bounds it.
      "cpuSeconds": cpuSeconds, "cpuMicrosPerSaga": cpuSeconds * 1e6 / Double(max(1, finished)),
      // Requests per pay transaction (group commit), i.e. payments per fsync.
      "payGroupSize": Double(groups.requests - groupsBefore.requests)
        / Double(max(1, groups.groups - groupsBefore.groups)),
    ]
    let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
  }

  /// User plus system CPU time of the whole process so far.
  private static func processCPUSeconds() -> Double {
    var usage = rusage()
    #if os(Linux)
      getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
      getrusage(RUSAGE_SELF, &usage)
    #endif
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
  }
}
