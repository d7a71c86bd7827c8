public import Foundation
import Synchronization

/// Serializes `Process.run()` across the whole test process. Foundation's Process.run
/// crashed (a memcpy on a freed buffer) while another test thread was spawning and
/// closing its inherited descriptors; spawning is quick, so one at a time costs nothing.
private let spawnLock = Mutex(())

/// Starts `process` with no other spawn of this test process running at the same time.
public func runSerialized(_ process: Process) throws {
  try spawnLock.withLock { _ in try process.run() }
}
