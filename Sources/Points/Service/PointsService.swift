public import Foundation
public import SagaCore
public import SagaStorage

/// The Points service's operations outside the consume loop: enrolment (the report's
/// service rewarded only known users) and the reads that `sagactl` and tests need.
/// Rewards themselves are credited only by `ReservationCompletedHandler`, inside the loop's
/// transaction, so that every balance change comes with its ledger row and its event.
///
/// Every method throws `SagaError`: `invalid-value` for a bad id, otherwise
/// `SagaError.storage(_:)` (busy and I/O are transient).
public final class PointsService: Sendable {
  public let database: PointsDatabase

  public init(database: PointsDatabase) {
    self.database = database
  }

  /// Opens (creating if needed) a Points database at `configuration.path`.
  /// - Throws: `StorageError` when the file cannot be opened or migrated.
  public convenience init(opening configuration: StorageConfiguration) throws {
    self.init(database: try PointsDatabase(opening: configuration))
  }

  /// Gives `userId` an empty point account. Idempotent: an existing account, its balance
  /// and its enrolment time are left alone.
  /// - Returns: true when the account was created now, false when it already existed.
  @discardableResult
  public func enroll(userId: Int64, at now: Date = Date()) async throws(SagaError) -> Bool {
    try Self.validate(userId: userId)
    return try await write { db in try PointsStore.enroll(userId: userId, at: now, in: db) }
  }

  /// Whether `userId` has a point account.
  public func isEnrolled(userId: Int64) async throws(SagaError) -> Bool {
    try await balance(userId: userId) != nil
  }

  /// The account's balance, or nil when the user is not enrolled.
  public func balance(userId: Int64) async throws(SagaError) -> Int64? {
    try await read { db in try PointsStore.balance(userId: userId, in: db) }
  }

  /// The reward credited for (user, payment), if any.
  public func reward(userId: Int64, paymentId: Int64) async throws(SagaError) -> PointReward? {
    try await read { db in try PointsStore.reward(userId: userId, paymentId: paymentId, in: db) }
  }

  /// The permanent failure recorded for (user, payment), if any.
  public func rewardFailure(userId: Int64, paymentId: Int64) async throws(SagaError) -> RewardFailure? {
    try await read { db in try PointsStore.failure(userId: userId, paymentId: paymentId, in: db) }
  }

  /// Checks the invariants the handler maintains and returns one sentence per violation
  /// (empty when consistent): every balance equals the sum of its ledger rows, and no
  /// (user, payment) is both rewarded and failed. Scans every table: an operator's or a
  /// test's check, not something to run per message.
  public func verify() async throws(SagaError) -> [String] {
    try await read { db in try PointsStore.inconsistencies(in: db) }
  }

  /// Points' side of payment `paymentId`'s saga (`sagactl saga`), in time order; empty when
  /// Points never heard of it.
  public func steps(paymentId: Int64) async throws(SagaError) -> [PointsSagaStep] {
    try await read { db in try PointsSagaStep.fetchAll(paymentId: paymentId, in: db) }
  }

  /// Every reward and failure Points recorded, for `verify`'s comparison with Payments.
  public func auditEntries() async throws(SagaError) -> [PointsAuditEntry] {
    try await read { db in try PointsStore.auditEntries(in: db) }
  }

  private static func validate(userId: Int64) throws(SagaError) {
    // The same rule the event codec applies to ids: an account nobody's events can name
    // would only hide a typo.
    guard userId > 0 else {
      throw SagaError(.invalidValue, "userId must be greater than zero, got \(userId)", field: "userId")
    }
  }

  private func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws(SagaError)
    -> T
  {
    do {
      return try await database.read(body)
    } catch {
      throw SagaError.storage(error)
    }
  }

  private func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws(SagaError)
    -> T
  {
    do {
      return try await database.write(body)
    } catch {
      throw SagaError.storage(error)
    }
  }
}
