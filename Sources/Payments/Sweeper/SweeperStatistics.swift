public import Foundation

/// Running counts of the stuck-saga sweeper, for `status` and metrics.
public struct SweeperStatistics: Sendable, Equatable {
  /// Sweeps completed since start.
  public var sweeps = 0
  /// Re-announcements written since start.
  public var republished = 0
  /// Sagas newly reported over the limit since start.
  public var reported = 0
  /// Sagas reported stuck right now (after the last sweep): what needs an operator.
  public var stuck = 0
  public var lastSweepAt: Date?
  public var lastError: String?
  /// Whether this instance holds the sweeper's lease (PostgreSQL, several instances: one
  /// sweeps); nil without one.
  public var leaseHeld: Bool?
}
