/// A place in sagad where an operator or a test can inject a fault (Docs/operations-recovery.md, "Failpoints"). Only
/// the names in `known` exist; parsing anything else fails with the list, so a typo in a
/// drill is refused instead of silently arming nothing.
public struct FailpointName: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
  public let rawValue: String

  public init(rawValue: String) { self.rawValue = rawValue }

  /// Points, before a reward is written (inside the consume transaction).
  public static let pointsReward = FailpointName(rawValue: "points.reward")
  /// Payments, before a refund row is written (inside the consume transaction).
  public static let paymentsRefund = FailpointName(rawValue: "payments.refund")
  /// An outbox relay, before it hands a round of rows to the producer.
  public static let outboxPublish = FailpointName(rawValue: "outbox.publish")
  /// A consume worker, after its batch committed and before the Kafka offsets are committed.
  public static let consumerBeforeOffsetCommit = FailpointName(rawValue: "consumer.before_offset_commit")
  /// A consume worker, just before it commits a batch's database transaction.
  public static let dbCommit = FailpointName(rawValue: "db.commit")

  /// Every point sagad has, in documentation order.
  public static let known: [FailpointName] = [
    .pointsReward, .paymentsRefund, .outboxPublish, .consumerBeforeOffsetCommit, .dbCommit,
  ]

  /// Parses an operator-supplied name.
  /// - Throws: `invalid-value` naming the known points when `text` is none of them.
  public init(parsing text: String) throws(SagaError) {
    guard let name = Self.known.first(where: { $0.rawValue == text }) else {
      throw SagaError(
        .invalidValue,
        "unknown failpoint '\(text)'; known: \(Self.known.map(\.rawValue).joined(separator: ", "))",
        failureClass: .permanent)
    }
    self = name
  }

  public var description: String { rawValue }

  public static func < (lhs: FailpointName, rhs: FailpointName) -> Bool { lhs.rawValue < rhs.rawValue }
}
