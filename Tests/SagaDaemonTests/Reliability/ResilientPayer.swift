import AdminProtocol
import Foundation
import Synchronization

/// Who pays for which schedule, and how much. (user, schedule) is the payment's
/// idempotency key, so sending the same planned payment twice is safe.
struct PlannedPayment: Sendable, Hashable {
  var userId: Int64
  var scheduleId: Int64
  var amount: Int64
}

/// Drives payments through an admin socket that may vanish at any moment: a sagad being
/// killed and restarted under it. A `pay` whose reply was lost is sent again on a new
/// connection; the retry of a committed payment comes back as a duplicate of the
/// original, which is what makes the retry safe. `sagactl load` fails instead (exit 1)
/// when its sagad dies, so the crash scenarios use this.
final class ResilientPayer: Sendable {
  private struct State {
    var next = 0
    var acknowledged: [PlannedPayment: Int64] = [:]
    var duplicates = 0
    var resends = 0
    var refusals: [String] = []
    var deferrals: [String] = []
  }

  let socket: String
  let plan: [PlannedPayment]
  /// Refusals a scenario provokes on purpose (a full disk): sent again, not counted as refusals.
  let isExpectedRefusal: @Sendable (AdminReply) -> Bool
  private let state = Mutex(State())

  init(
    socket: String, plan: [PlannedPayment], isExpectedRefusal: @escaping @Sendable (AdminReply) -> Bool = { _ in false }
  ) {
    self.socket = socket
    self.plan = plan
    self.isExpectedRefusal = isExpectedRefusal
  }

  /// Payments sagad has confirmed, by plan entry: their payment ids.
  var acknowledged: [PlannedPayment: Int64] { state.withLock { $0.acknowledged } }
  var acknowledgedCount: Int { state.withLock { $0.acknowledged.count } }
  /// Resent `pay` requests that came back as duplicates (the first reply was lost).
  var duplicates: Int { state.withLock { $0.duplicates } }
  /// Requests sent again after a lost connection.
  var resends: Int { state.withLock { $0.resends } }
  /// `pay` replies that refused a planned payment: none expected (wallets suffice).
  var refusals: [String] { state.withLock { $0.refusals } }
  /// The first of the expected refusals, with their count: what the client was told.
  var deferrals: [String] { state.withLock { $0.deferrals } }

  /// Sends every planned payment with `concurrency` connections, about `rate` a second
  /// in all; returns when each got a final answer. Throws when `timeout` passes first.
  func run(concurrency: Int, rate: Double, timeout: Duration) async throws {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    let pause = Duration.milliseconds(Int64(1000 * Double(concurrency) / rate))
    try await withThrowingTaskGroup(of: Void.self) { group in
      for _ in 0..<concurrency {
        group.addTask { try await self.work(until: deadline, pause: pause) }
      }
      try await group.waitForAll()
    }
  }

  private func take() -> PlannedPayment? {
    state.withLock { state in
      guard state.next < plan.count else { return nil }
      defer { state.next += 1 }
      return plan[state.next]
    }
  }

  private func work(until deadline: ContinuousClock.Instant, pause: Duration) async throws {
    var client: AdminTestClient?
    defer { client?.close() }
    while let payment = take() {
      // Pacing, so the load spans the scenario's faults instead of ending before them.
      try await Task.sleep(for: pause)
      var sent = false
      while true {
        guard ContinuousClock.now < deadline else {
          throw TestFailure("payments still unanswered at the deadline (\(acknowledgedCount) acknowledged)")
        }
        if client == nil {
          client = try? await AdminTestClient.connect(socket, timeout: .seconds(10))
          if client == nil {
            // sagad is down or still starting: the scenario restarts it.
            try await Task.sleep(for: .milliseconds(50))
            continue
          }
        }
        if sent { state.withLock { $0.resends += 1 } }
        sent = true
        let reply: AdminReply
        do {
          reply = try await client!.send(
            "pay --user \(payment.userId) --schedule \(payment.scheduleId) --amount \(payment.amount) --json")
        } catch {
          client?.close()
          client = nil
          continue
        }
        if reply.code == .ok, let paid = try? decodeReply(AdminJSON.Paid.self, reply) {
          state.withLock { state in
            state.acknowledged[payment] = paid.paymentId
            if paid.duplicate { state.duplicates += 1 }
          }
          break
        }
        if [.unavailable, .shuttingDown, .tooManyConnections, .idleTimeout].contains(reply.code) {
          try await Task.sleep(for: .milliseconds(50))
          continue
        }
        if isExpectedRefusal(reply) {
          state.withLock { $0.deferrals.append(reply.lines.map(\.description).joined(separator: " ")) }
          try await Task.sleep(for: .milliseconds(200))
          continue
        }
        state.withLock { $0.refusals.append("\(payment): \(reply.lines.map(\.description))") }
        break
      }
    }
  }
}
