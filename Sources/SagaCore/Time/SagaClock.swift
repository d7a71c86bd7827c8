public import Foundation

/// The clock a time-based component waits on (back-offs, idle waits, due times, pacing)
/// and reads wall time from where it stores a timestamp. Production uses `.continuous`:
/// `ContinuousClock` and `Date()`. Tests wrap a manual clock, whose wall time then moves
/// with it, so that advancing it passes both a back-off and a stored due time.
///
/// It erases the clock it wraps (components keep one concrete type whatever drives them),
/// and its instants count from the moment it was made, so they compare and subtract like
/// any other clock's.
public struct SagaClock: Clock, Sendable {
  /// A point on this clock: the time elapsed since the clock was made.
  public struct Instant: InstantProtocol, Sendable, Hashable, Comparable {
    public let offset: Duration

    public init(offset: Duration) { self.offset = offset }

    public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
    public func duration(to other: Instant) -> Duration { other.offset - offset }
    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    public static func + (lhs: Instant, rhs: Duration) -> Instant { lhs.advanced(by: rhs) }
    public static func - (lhs: Instant, rhs: Duration) -> Instant { lhs.advanced(by: .zero - rhs) }
    public static func - (lhs: Instant, rhs: Instant) -> Duration { rhs.duration(to: lhs) }
  }

  /// The system's clocks: `ContinuousClock` for waiting, `Date()` for wall time.
  public static let continuous = SagaClock(ContinuousClock(), wallTime: { Date() })

  private let elapsed: @Sendable () -> Duration
  private let sleeper: @Sendable (Duration, Duration?) async throws -> Void
  private let wall: @Sendable () -> Date
  public let minimumResolution: Duration

  /// Waits on `clock`; `wallTime` tells the date (a production clock's own, which may be
  /// stepped by NTP independently of `clock`).
  public init<C: Clock<Swift.Duration>>(_ clock: C, wallTime: @escaping @Sendable () -> Date) {
    let origin = clock.now
    elapsed = { origin.duration(to: clock.now) }
    sleeper = { offset, tolerance in try await clock.sleep(until: origin.advanced(by: offset), tolerance: tolerance) }
    wall = wallTime
    minimumResolution = clock.minimumResolution
  }

  /// Waits on `clock`, with a wall time that is `date` now and moves only with `clock`:
  /// what a test clock needs, so that stored timestamps follow the time it advances.
  public init<C: Clock<Swift.Duration>>(_ clock: C, date: Date = Date()) {
    let origin = clock.now
    self.init(clock) { date.addingTimeInterval(origin.duration(to: clock.now).timeInterval) }
  }

  public var now: Instant { Instant(offset: elapsed()) }

  /// The wall time now, for timestamps that are stored or shown.
  public var wallTime: Date { wall() }

  public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
    try await sleeper(deadline.offset, tolerance)
  }
}

extension Duration {
  /// The duration in (fractional) seconds, as Foundation counts time.
  fileprivate var timeInterval: TimeInterval {
    let (seconds, attoseconds) = components
    return Double(seconds) + Double(attoseconds) / 1e18
  }
}
