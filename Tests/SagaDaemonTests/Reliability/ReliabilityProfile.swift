import Foundation
import Synchronization

/// The size of a reliability run. `RELIABILITY=full` (what `make reliability` sets)
/// picks the full sizes of issue 7; anything else the CI subset that `make test` runs.
/// `RELIABILITY_SEED` fixes the random kill moments and fuzz lines of a run; the
/// default seed is fixed too, so a failing CI run can be replayed as it was.
struct ReliabilityProfile: Sendable {
  let isFull: Bool
  let seed: UInt64

  static let current: ReliabilityProfile = {
    let environment = ProcessInfo.processInfo.environment
    let seed = environment["RELIABILITY_SEED"].flatMap { UInt64($0) } ?? 20_261_125
    return ReliabilityProfile(isFull: environment["RELIABILITY"] == "full", seed: seed)
  }()

  /// `ci` in the CI subset, `full` in the full run.
  func pick<T>(ci: T, full: T) -> T { isFull ? full : ci }

  var name: String { isFull ? "full" : "ci" }
}

/// One row of Docs/reliability.md's table, written by each scenario as a JSON line to the
/// file named by `RELIABILITY_RESULTS` (nothing is written when it is unset).
struct ReliabilityResult: Codable, Sendable {
  var scenario: String
  var profile: String
  var seed: UInt64
  var runs: Int
  var payments: Int
  var faults: Int
  var faultKind: String
  var violations: Int
  var seconds: Double
  var details: [String]

  private static let lock = Mutex(())

  /// Appends this result to the results file, one line per scenario run.
  func record() throws {
    guard let path = ProcessInfo.processInfo.environment["RELIABILITY_RESULTS"], !path.isEmpty else { return }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let line = try encoder.encode(self) + Data("\n".utf8)
    try Self.lock.withLock { _ in
      if !FileManager.default.fileExists(atPath: path) {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
      }
      let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
      defer { try? handle.close() }
      try handle.seekToEnd()
      try handle.write(contentsOf: line)
    }
  }
}

/// SplitMix64: a small seeded generator, so a scenario's random choices repeat with its seed.
struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
