/// How the stuck-saga sweeper works (Docs/design.md, "Stuck sagas"; `sweeper.*` in the configuration).
public struct SweeperSettings: Sendable, Equatable {
  /// A saga still `PAID` (or `REWARD_FAILED`) this long after its last change and its last
  /// re-announcement is re-announced (`sweeper.stuck_after`).
  public var stuckAfter: Duration = .seconds(60)
  /// Time between sweeps (`sweeper.interval`).
  public var interval: Duration = .seconds(15)
  /// Re-announcements per saga before the sweeper stops and reports it instead
  /// (`sweeper.max_republish`); 0 reports at once without re-announcing.
  public var maxRepublish = 5
  /// Most sagas handled per transaction; a sweep with more due runs again at once.
  public var batchMax = 500

  public init() {}

  public init(stuckAfter: Duration, interval: Duration, maxRepublish: Int) {
    self.stuckAfter = stuckAfter
    self.interval = interval
    self.maxRepublish = maxRepublish
  }
}
