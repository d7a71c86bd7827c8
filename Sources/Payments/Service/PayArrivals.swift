import SagaCore

/// When `pay` requests last arrived and how far apart they come, for the group window
/// (`PayGroupCommit`): waiting for more requests is worth it only while more keep coming.
/// Callers that each wait for their answer before the next request (a fixed pool of
/// synchronous clients) are all queued soon after a group commits, and then nobody else
/// comes; the window's full wait would only slow them.
struct PayArrivals: Sendable {
  private var last: SagaClock.Instant?
  /// The mean time between two arrivals, weighted toward the recent (an eighth per arrival).
  private var meanGap: Duration?

  /// Notes an arrival at `now`. A gap counts as at most `cap` (the window), so that one idle
  /// spell does not make the average useless for the next many arrivals.
  mutating func record(at now: SagaClock.Instant, cap: Duration) {
    if let last {
      let gap = min(now - last, cap)
      meanGap = meanGap.map { $0 + (gap - $0) / 8 } ?? gap
    }
    last = now
  }

  /// When arrivals count as stopped: four mean gaps after the last one, and no sooner than
  /// `floor` after it; nil until two arrivals have given a gap.
  func quietAfter(floor: Duration) -> SagaClock.Instant? {
    guard let last, let meanGap else { return nil }
    return last + max(floor, meanGap * 4)
  }
}
