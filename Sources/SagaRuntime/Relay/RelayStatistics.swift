/// Running counts of one relay, for `status` and metrics.
public struct RelayStatistics: Sendable, Equatable {
  public var sent = 0
  public var failedAttempts = 0
  public var lastError: String?
}
