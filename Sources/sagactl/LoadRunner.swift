import AdminProtocol
import Foundation
import SagaCore
import Synchronization

/// Why `sagactl load` stopped before its report.
struct LoadError: Error, CustomStringConvertible {
  let description: String
}

/// Drives `sagactl load`: creates the users, makes the payments through the admin sockets
/// on `concurrency` connections (each on its own thread: `AdminClient` blocks), waits
/// until every saga is terminal, then runs `verify`. Latencies come from sagad's own
/// timestamps (payment commit → last update), so the polling here does not blur them.
struct LoadRunner: Sendable {
  let plan: LoadPlan
  /// Progress lines for people (stderr), e.g. "created 100 users".
  let progress: @Sendable (String) -> Void

  static let terminalStates: Set<String> = ["REWARDED", "REFUNDED", "COMPENSATION_FAILED"]

  func run() throws(LoadError) -> LoadReport {
    let errors = Mutex<[String: Int]>([:])
    let refused: @Sendable (AdminReply) -> Void = { reply in
      errors.withLock { $0["\(reply.code) \(reply.text)", default: 0] += 1 }
    }

    try createUsers(refused: refused)
    progress("created \(plan.users) users (\(plan.unenrolledCount) without a point account)")

    let paymentIds = Mutex<[Int64]>([])
    let started = ContinuousClock.now
    try parallel(count: plan.payments, runs: plan.pipeline) { client, indices in
      if let offset = plan.startOffset(of: indices.lowerBound) {
        let wait = (started + offset) - ContinuousClock.now
        if wait > .zero { Thread.sleep(forTimeInterval: wait.seconds) }
      }
      // Pipelined (Docs/admin-protocol.md, "Pipelining"): the run's lines in one write, then
      // their replies, which come in the same order.
      let lines = indices.map { index in
        let (user, schedule) = plan.payer(of: index)
        return AdminRequest(
          .pay, ["user": .integer(user), "schedule": .integer(schedule), "amount": .integer(plan.amount)], json: true
        ).line + "\n"
      }
      try client.write(Array(lines.joined().utf8))
      for _ in indices {
        let reply = try client.readReply()
        guard reply.code.replyClass == .done, let paid: AdminJSON.Paid = Self.decode(reply) else {
          refused(reply)
          continue
        }
        if !paid.duplicate { paymentIds.withLock { $0.append(paid.paymentId) } }
      }
    }
    let ids = paymentIds.withLock { $0 }
    progress("made \(ids.count) payments; waiting for their sagas to end")

    let finished = try settle(ids)
    let verify = try verifyReply()
    return report(ids.count, finished, errors.withLock { $0 }, verify)
  }

  /// A terminal payment as `payment --json` shows it.
  private struct Finished: Sendable {
    var status: String
    var created: Date
    var updated: Date
  }

  private func createUsers(refused: @escaping @Sendable (AdminReply) -> Void) throws(LoadError) {
    let balance = plan.amount * Int64(plan.paymentsPerUser)
    try parallel(count: plan.users) { client, index in
      var arguments: [String: AdminRequest.Argument] = [
        "id": .integer(plan.firstUser + Int64(index)), "balance": .integer(balance),
      ]
      if index < plan.unenrolledCount { arguments["no-points"] = .flag(true) }
      let reply = try client.send(AdminRequest(.userAdd, arguments))
      if reply.code.replyClass != .done { refused(reply) }
    }
  }

  /// Polls the unfinished payments until all are terminal or the settle timeout passes: one
  /// `payments` request per id range of up to 1,000 (a poll per saga cost sagad more than the
  /// saga on PostgreSQL: three statements each).
  private func settle(_ ids: [Int64]) throws(LoadError) -> [Int64: Finished] {
    let finished = Mutex<[Int64: Finished]>([:])
    var pending = ids.sorted()
    let newest = pending.last.map { last in max(pending[0], last - 999)...last }
    let deadline = ContinuousClock.now + plan.settleTimeout
    // The newest payments first, alone, until their sagas have ended: the older ones end
    // first, and polling them meanwhile only took CPU from the sagas still measured. Not for
    // long: a newest saga that never ends must not keep the others from being seen.
    let tailUntil = ContinuousClock.now + min(.seconds(2), plan.settleTimeout / 2)
    let inTail = { (id: Int64) in newest?.contains(id) ?? false }
    while !pending.isEmpty {
      let tailOnly = ContinuousClock.now < tailUntil && pending.last.map(inTail) == true
      let ranges = Self.ranges(tailOnly ? pending.filter(inTail) : pending)
      let waiting = Set(pending)
      // One range at a time: a thousand payments are a burst of work for sagad, and twenty
      // at once took both cores from the sagas still running (their latency is measured).
      try parallel(count: ranges.count, connections: 1) { client, index in
        let range = ranges[index]
        let reply = try client.send(
          AdminRequest(
            .payments, ["from": .integer(range.lowerBound), "to": .integer(range.upperBound)], json: true))
        guard let page: AdminJSON.Payments = Self.decode(reply) else { return }
        let ended = page.payments.compactMap { payment -> (Int64, Finished)? in
          // Another client's payment in the range is not this run's.
          guard waiting.contains(payment.paymentId), Self.terminalStates.contains(payment.status),
            let created = Self.date(payment.createdAt),
            let updated = Self.date(payment.updatedAt)
          else { return nil }
          return (payment.paymentId, Finished(status: payment.status, created: created, updated: updated))
        }
        finished.withLock { for (id, saga) in ended { $0[id] = saga } }
      }
      let done = finished.withLock { Set($0.keys) }
      pending.removeAll { done.contains($0) }
      guard !pending.isEmpty else { break }
      guard ContinuousClock.now < deadline else {
        progress("\(pending.count) sagas still running after \(plan.settleTimeout)")
        break
      }
      // sagad has no push notification for saga ends: poll, gently.
      Thread.sleep(forTimeInterval: 0.1)
    }
    return finished.withLock { $0 }
  }

  /// `sorted` ids cut into ranges no wider than one `payments` request takes (1,000 ids);
  /// other clients' payments in between are read and ignored.
  static func ranges(_ sorted: [Int64]) -> [ClosedRange<Int64>] {
    var ranges: [ClosedRange<Int64>] = []
    var start: Int64?
    var last: Int64 = 0
    for id in sorted {
      if let first = start, id - first < 1_000 {
        last = id
        continue
      }
      if let first = start { ranges.append(first...last) }
      start = id
      last = id
    }
    if let first = start { ranges.append(first...last) }
    return ranges
  }

  private func verifyReply() throws(LoadError) -> AdminJSON.Verify {
    let result = Mutex<AdminJSON.Verify?>(nil)
    try parallel(count: 1) { client, _ in
      let reply = try client.send(AdminRequest(.verify, json: true))
      result.withLock { $0 = Self.decode(reply) }
    }
    guard let verify = result.withLock({ $0 }) else { throw LoadError(description: "verify gave no JSON document") }
    return verify
  }

  private func report(
    _ made: Int, _ finished: [Int64: Finished], _ errors: [String: Int], _ verify: AdminJSON.Verify
  ) -> LoadReport {
    let latencies = finished.values.map { $0.updated.timeIntervalSince($0.created) * 1000 }.sorted()
    var outcomes: [String: Int] = [:]
    for saga in finished.values { outcomes[saga.status, default: 0] += 1 }
    if made > finished.count { outcomes["UNFINISHED"] = made - finished.count }
    let first = finished.values.map(\.created).min()
    let last = finished.values.map(\.updated).max()
    let seconds = first.flatMap { first in last.map { $0.timeIntervalSince(first) } } ?? 0
    return LoadReport(
      payments: made, seconds: seconds, sagasPerSecond: seconds > 0 ? Double(finished.count) / seconds : 0,
      p50Ms: LoadReport.percentile(0.5, of: latencies), p99Ms: LoadReport.percentile(0.99, of: latencies),
      maxMs: latencies.last ?? 0, outcomes: outcomes, errors: errors, verifyOk: verify.ok,
      violations: verify.violations)
  }

  /// Runs `body(client, index)` for every index below `count` on up to `concurrency`
  /// threads, each with its own connection, to the plan's sockets round robin (a single
  /// connection: the first socket's). The first connection failure stops the run:
  /// it means sagad went away, and a report would be wrong.
  private func parallel(
    count: Int, connections: Int? = nil, _ body: @escaping @Sendable (AdminClient, Int) throws -> Void
  ) throws(LoadError) {
    try parallel(count: count, connections: connections, runs: 1) { client, indices in
      for index in indices { try body(client, index) }
    }
  }

  /// ``parallel(count:connections:_:)`` handing each connection runs of up to `runs`
  /// consecutive indices.
  private func parallel(
    count: Int, connections: Int? = nil, runs: Int,
    _ body: @escaping @Sendable (AdminClient, Range<Int>) throws -> Void
  ) throws(LoadError) {
    guard count > 0 else { return }
    let next = Atomic<Int>(0)
    let failure = Mutex<String?>(nil)
    let group = DispatchGroup()
    let plan = self.plan
    for connection in 0..<min(connections ?? plan.concurrency, count) {
      group.enter()
      let thread = Thread {
        defer { group.leave() }
        let socket = plan.socket(forConnection: connection)
        do {
          let client = try AdminClient(socketPath: socket, timeout: plan.requestTimeout)
          defer { client.close() }
          while failure.withLock({ $0 == nil }) {
            let first = next.add(runs, ordering: .relaxed).oldValue
            guard first < count else { break }
            try body(client, first..<min(first + runs, count))
          }
        } catch {
          // Which instance went away, when there are several (connecting names it already).
          var text = Self.describe(error)
          if plan.sockets.count > 1, !text.contains(socket) { text = "\(socket): \(text)" }
          failure.withLock { $0 = $0 ?? text }
        }
      }
      thread.start()
    }
    group.wait()
    if let error = failure.withLock({ $0 }) { throw LoadError(description: error) }
  }

  private static func describe(_ error: any Error) -> String {
    (error as? AdminClientError)?.message ?? "\(error)"
  }

  private static func decode<T: Decodable>(_ reply: AdminReply) -> T? {
    guard let json = reply.json else { return nil }
    // Flat documents (every `pay` reply) without Foundation's decoder, whose JSON code was the
    // largest block of this process's CPU at full speed (~13 %); anything nested goes to it.
    let bytes = Array(json.utf8)
    return FlatJSONDecoder.decode(T.self, from: bytes) ?? (try? JSONDecoder().decode(T.self, from: Data(bytes)))
  }

  /// sagad's timestamps (`YYYY-MM-DDTHH:MM:SS.mmmZ`), parsed by hand: a Foundation
  /// formatter per reply took a third of the machine's CPU at full speed, beside the sagad
  /// being measured.
  private static func date(_ text: String) -> Date? {
    RFC3339Timestamp.parse(text).map(RFC3339Timestamp.date(milliseconds:))
  }
}

extension Duration {
  fileprivate var seconds: Double {
    Double(components.seconds) + Double(components.attoseconds) / 1e18
  }
}
