/// How many points a payment earns (Docs/design.md, "Reward"): `paidAmount × rate ÷ 10 000`, rounded
/// down to a multiple of `unit`. The report computed this with a `double`, which loses
/// precision for large amounts; this is integer arithmetic with a 128-bit intermediate, so it
/// is exact and cannot overflow for any non-negative `Int64` payment.
public struct RewardRule: Sendable, Hashable, Codable, CustomStringConvertible {
  /// Basis points in 100 %.
  public static let basisPointsPerWhole: Int64 = 10_000
  /// The report's rule: 10 %, rounded down to 100 KRW.
  public static let standard = RewardRule(unchecked: 1000, unit: 100)

  /// The reward rate in basis points (1000 = 10 %), within 0...10 000.
  public let rateBasisPoints: Int64
  /// The granularity the reward is rounded down to, in KRW; ≥ 1.
  public let unit: Int64

  /// Why a rule was rejected.
  public enum ValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The rate is negative or above 100 % (a reward larger than the payment is never
    /// intended, and the cap is what keeps the result within `Int64`).
    case rateOutOfRange(Int64)
    /// The unit is zero or negative.
    case unitNotPositive(Int64)

    public var description: String {
      switch self {
      case .rateOutOfRange(let rate):
        "reward rate must be 0...\(RewardRule.basisPointsPerWhole) basis points, got \(rate)"
      case .unitNotPositive(let unit): "reward unit must be at least 1, got \(unit)"
      }
    }
  }

  public init(rateBasisPoints: Int64 = 1000, unit: Int64 = 100) throws(ValidationError) {
    guard (0...Self.basisPointsPerWhole).contains(rateBasisPoints) else {
      throw .rateOutOfRange(rateBasisPoints)
    }
    guard unit >= 1 else { throw .unitNotPositive(unit) }
    self.init(unchecked: rateBasisPoints, unit: unit)
  }

  private init(unchecked rateBasisPoints: Int64, unit: Int64) {
    self.rateBasisPoints = rateBasisPoints
    self.unit = unit
  }

  /// The reward for a payment of `paid` KRW; 0 is a valid reward.
  /// - Precondition: `paid >= 0` (decoded events are validated: a negative amount never
  ///   gets this far).
  public func reward(forPaid paid: Int64) -> Int64 {
    precondition(paid >= 0, "paid amount must not be negative, got \(paid)")
    // paid × rate fits in 128 bits; the quotient is ≤ paid because rate ≤ 10 000, so it
    // fits in Int64 and dividingFullWidth cannot trap.
    let product = paid.multipliedFullWidth(by: rateBasisPoints)
    let raw = Self.basisPointsPerWhole.dividingFullWidth(product).quotient
    return raw - raw % unit
  }

  public var description: String { "\(rateBasisPoints) bp, rounded down to \(unit)" }

  private enum CodingKeys: String, CodingKey {
    case rateBasisPoints, unit
  }

  /// Decoding validates like `init(rateBasisPoints:unit:)`; missing values take the defaults.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    try self.init(
      rateBasisPoints: container.decodeIfPresent(Int64.self, forKey: .rateBasisPoints) ?? 1000,
      unit: container.decodeIfPresent(Int64.self, forKey: .unit) ?? 100)
  }
}
