public import Foundation
import Synchronization

/// Event ids as UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit
/// counter that keeps ids from one process increasing within a millisecond, then 62 random
/// bits. The receiving inbox is clustered by event id (`PRIMARY KEY (consumer_group,
/// event_id)`): random version 4 ids put every claim on a random B-tree page, so a batch's
/// commit wrote a page per record; time-ordered ids append to the last pages.
/// Still a UUID to any peer: only sagad reads meaning into the bits, and only this ordering.
public final class TimeOrderedUUID: Sendable {
  private struct Clock {
    var milliseconds: UInt64 = 0
    var counter: UInt16 = 0
  }

  private let clock = Mutex(Clock())

  /// The process's generator, which event envelopes use.
  public static let shared = TimeOrderedUUID()

  public init() {}

  /// A new id from the process's generator.
  public static func next(now: Date = Date()) -> UUID { shared.next(now: now) }

  /// A new id, later than every id this generator made before (as long as the counter's
  /// 4,096 ids per millisecond last; past them the id borrows the next millisecond).
  public func next(now: Date = Date()) -> UUID {
    let wall = UInt64(max(0, (now.timeIntervalSince1970 * 1000).rounded(.down)))
    let (milliseconds, counter) = clock.withLock { clock -> (UInt64, UInt16) in
      if wall > clock.milliseconds {
        clock.milliseconds = wall
        clock.counter = 0
      } else if clock.counter < 0x0FFF {
        clock.counter += 1
      } else {
        // A wall clock that went back, or 4,096 ids in one millisecond: move on.
        clock.milliseconds += 1
        clock.counter = 0
      }
      return (clock.milliseconds, clock.counter)
    }
    var generator = BufferedRandom()
    let random = generator.next()
    let m = milliseconds
    func byte(_ value: UInt64, _ shift: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: value >> shift) }
    return UUID(
      uuid: (
        byte(m, 40), byte(m, 32), byte(m, 24), byte(m, 16), byte(m, 8), byte(m, 0),
        0x70 | UInt8(counter >> 8), UInt8(truncatingIfNeeded: counter),
        0x80 | byte(random, 58), byte(random, 48), byte(random, 40), byte(random, 32),
        byte(random, 24), byte(random, 16), byte(random, 8), byte(random, 0)
      ))
  }
}
