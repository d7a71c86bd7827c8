import ArgumentParser
import Foundation
import GRDB
import Payments
import SagaStorage

/// `sagad-bench sqlite`: the disk's limit for `make bench`. Pay-like write transactions
/// on a Payments database (same schema, same pragmas, `synchronous=FULL` by default),
/// without any of sagad's logic: per payment, the rows `pay` writes (reservation,
/// payment, wallet update, wallet ledger, outbox row, saga step). Once with one payment
/// per transaction (an fsync each: the report's design) and once with `--batch` payments
/// per transaction (what group commit can reach). Prints one JSON line.
struct SQLiteBenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sqlite", abstract: "Measure pay-like SQLite write transactions on a Payments database.")

  @Option(help: "Payments written one per transaction.") var single = 2_000
  @Option(help: "Payments written in batched transactions.") var batched = 50_000
  @Option(help: "Payments per batched transaction.") var batch = 256
  @Option(help: "Distinct users.") var users = 1_000
  @Option(help: "Directory for the database (default: a temporary one, removed after).") var stateDir: String?
  @Option(help: "storage.synchronous: full or normal.") var synchronous = "full"

  /// Rows one pay-like unit writes: reservation, payment, wallet, wallet_ledger, outbox, saga_steps.
  static let rowsPerPayment = 6

  func validate() throws {
    guard single >= 0, batched >= 0, batch > 0, users > 0 else {
      throw ValidationError("--single, --batched must be ≥ 0; --batch, --users > 0")
    }
  }

  func run() async throws {
    let directory = stateDir ?? NSTemporaryDirectory() + "sagad-bench-sqlite-" + UUID().uuidString
    defer { if stateDir == nil { try? FileManager.default.removeItem(atPath: directory) } }
    let database = try PaymentsDatabase(
      opening: StorageConfiguration(
        path: directory + "/payments.sqlite", synchronous: synchronous == "normal" ? .normal : .full)
    ).storage
    let userCount = Int64(users)
    try await database.write { db in
      for user in 1...userCount {
        try db.execute("INSERT INTO users (id, created_at) VALUES (?, 0)", [user])
        try db.execute("INSERT INTO wallets (user_id, balance, updated_at) VALUES (?, ?, 0)", [user, Int64.max / 4])
      }
    }
    // A payload of the size of a ReservationCompleted body with its envelope.
    let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 320)
    let clock = ContinuousClock()
    var next: Int64 = 0

    var start = clock.now
    for _ in 0..<single {
      let index = next
      next += 1
      try await database.write { db in try Self.payLike(index, users: userCount, payload: payload, in: db) }
    }
    let singleSeconds = Self.seconds(clock.now - start)

    start = clock.now
    var written = 0
    while written < batched {
      let count = min(batch, batched - written)
      let first = next
      next += Int64(count)
      try await database.write { db in
        for index in first..<first + Int64(count) {
          try Self.payLike(index, users: userCount, payload: payload, in: db)
        }
      }
      written += count
    }
    let batchedSeconds = Self.seconds(clock.now - start)
    try await database.close()

    let rows = Double(Self.rowsPerPayment)
    let result: [String: Double] = [
      "singlePayments": Double(single), "singleSeconds": singleSeconds,
      "singlePaymentsPerSecond": Double(single) / max(singleSeconds, 1e-9),
      "singleRowsPerSecond": Double(single) * rows / max(singleSeconds, 1e-9),
      "batchedPayments": Double(batched), "batchSize": Double(batch), "batchedSeconds": batchedSeconds,
      "batchedPaymentsPerSecond": Double(batched) / max(batchedSeconds, 1e-9),
      "batchedRowsPerSecond": Double(batched) * rows / max(batchedSeconds, 1e-9),
      "rowsPerPayment": rows,
    ]
    let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
  }

  /// The rows of one `pay`, through cached statements as `PayWriter` does.
  private static func payLike(_ index: Int64, users: Int64, payload: [UInt8], in db: some SQLConnection) throws {
    let user = index % users + 1
    let (schedule, amount, now) = (index + 1, 10_000 + index % 1_000, Int64(Date().timeIntervalSince1970 * 1000))
    let reservation = try db.insertReturningID(
      """
      INSERT INTO reservations (user_id, schedule_id, seat, status, created_at, updated_at)
      VALUES (?, ?, NULL, 'RESERVED', ?, ?)
      """, [user, schedule, now, now])
    let payment = try db.insertReturningID(
      """
      INSERT INTO payments (user_id, reservation_id, schedule_id, amount, status, trace_id, traceparent,
                            correlation_id, created_at, updated_at)
      VALUES (?, ?, ?, ?, 'PAID', ?, ?, ?, ?, ?)
      """,
      [
        user, reservation, schedule, amount, "0af7651916cd43dd8448eb211c80319c",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "payment-\(index)", now, now,
      ])
    try db.execute("UPDATE wallets SET balance = balance - ?, updated_at = ? WHERE user_id = ?", [amount, now, user])
    try db.execute(
      "INSERT INTO wallet_ledger (user_id, amount, kind, payment_id, created_at) VALUES (?, ?, 'payment', ?, ?)",
      [user, -amount, payment, now])
    try db.execute(
      "INSERT INTO outbox (topic, message_key, payload, created_at) VALUES (?, ?, ?, ?)",
      ["reservation-completed", String(user), Data(payload), now])
    try db.execute(
      "INSERT INTO saga_steps (payment_id, at, step, event_id, outcome) VALUES (?, ?, 'PAYMENT_ACCEPTED', ?, ?)",
      [payment, now, UUID().uuidString.lowercased(), "PAID: \(amount) KRW deducted"])
  }

  private static func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
  }
}
