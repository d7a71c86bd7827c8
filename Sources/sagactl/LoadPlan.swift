import Foundation

/// What `sagactl load` does: how many payments, how fast, by how many users, and where.
struct LoadPlan: Sendable {
  var payments: Int
  /// Payments started per second; nil = as fast as `concurrency` connections allow.
  var rate: Double?
  var users: Int
  /// Share of users created without a point account: their sagas end `REFUNDED`.
  var unenrolledFraction: Double
  var concurrency: Int
  /// Pay requests a connection sends before reading their replies (sagad runs them together).
  var pipeline: Int = 1
  var amount: Int64
  var firstUser: Int64
  /// The admin sockets connections go to, round robin: one sagad, or several instances per
  /// role on one PostgreSQL database (any instance takes any `pay`). The first one also
  /// answers the polls for the sagas' ends and `verify`, which see the shared database.
  var sockets: [String]
  /// Bound on one request's reply.
  var requestTimeout: Duration
  /// Bound on waiting for every saga to end once all payments are made.
  var settleTimeout: Duration

  /// The user who makes payment `index` (round robin) and that user's schedule for it,
  /// so every (user, schedule) pair — the payment's idempotency key — is new.
  func payer(of index: Int) -> (user: Int64, schedule: Int64) {
    (firstUser + Int64(index % users), Int64(index / users) + 1)
  }

  /// How many payments each user makes at most, and so the balance each one needs.
  var paymentsPerUser: Int { (payments + users - 1) / users }

  /// The first `unenrolledCount` users get no point account.
  var unenrolledCount: Int { Int((Double(users) * unenrolledFraction).rounded()) }

  /// The socket connection number `connection` uses.
  func socket(forConnection connection: Int) -> String {
    sockets[connection % sockets.count]
  }

  /// When payment `index` may start, relative to the start of the run.
  func startOffset(of index: Int) -> Duration? {
    guard let rate, rate > 0 else { return nil }
    return .nanoseconds(Int64(Double(index) / rate * 1e9))
  }

  /// A user id range unlikely to meet an earlier run's: the current time in milliseconds,
  /// times 1,000, so runs started a second apart stay clear unless they create more than a
  /// million users.
  static func defaultFirstUser(now: Date = Date()) -> Int64 {
    Int64(now.timeIntervalSince1970 * 1000) * 1000
  }
}
