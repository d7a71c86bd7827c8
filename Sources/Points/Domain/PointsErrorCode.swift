public import SagaCore

extension SagaError.Code {
  /// Points: crediting the reward would overflow the account's `Int64` balance. Permanent
  /// (no operation ever lowers a point balance), so it fails and compensates like an
  /// unknown user instead of going round the retry loop.
  public static let pointBalanceOverflow: SagaError.Code = "point-balance-overflow"
}
