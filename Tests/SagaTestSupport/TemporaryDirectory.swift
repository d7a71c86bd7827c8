public import Foundation

/// A fresh directory under the system's temp dir, removed when the value goes away.
public final class TemporaryDirectory: Sendable {
  public let url: URL
  public var path: String { url.path }

  /// A directory under `parent`, by default the system's temp dir.
  public init(in parent: URL = FileManager.default.temporaryDirectory) throws {
    url = parent.appendingPathComponent("sagad-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  /// A directory in memory (`/dev/shm`, a tmpfs) where there is one, else in the temp dir: for
  /// scratch data nothing needs after a crash and that a slow disk would make slow to write.
  public static func inMemory() throws -> TemporaryDirectory {
    let shm = URL(fileURLWithPath: "/dev/shm")
    guard FileManager.default.isWritableFile(atPath: shm.path) else { return try TemporaryDirectory() }
    return try TemporaryDirectory(in: shm)
  }

  deinit { try? FileManager.default.removeItem(at: url) }

  /// Runs `body` in a fresh directory, removed when `body` returns or throws (not
  /// earlier: a local the body no longer mentions may otherwise be released before).
  public static func with<T>(_ body: (TemporaryDirectory) async throws -> T) async throws -> T {
    let directory = try TemporaryDirectory()
    defer { withExtendedLifetime(directory) {} }
    return try await body(directory)
  }

  /// The URL of `name` inside the directory.
  public func appending(_ name: String) -> URL { url.appendingPathComponent(name) }
}
