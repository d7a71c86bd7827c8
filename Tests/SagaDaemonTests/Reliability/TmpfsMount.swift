import Foundation
import SagaTestSupport

/// A small tmpfs mounted for a storage-fault scenario: a disk that fills up for real and a
/// filesystem that can be remounted read-only. Needs CAP_SYS_ADMIN (CI runs as root);
/// ``isAvailable`` says whether this machine allows it.
struct TmpfsMount {
  let path: String

  /// Mounts a `megabytes` MB tmpfs on `path` (created if missing).
  init(at path: String, megabytes: Int) throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    try Self.mount(["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path])
    self.path = path
  }

  /// `mount -o remount,ro`: refused (busy) while any file on it is open for writing.
  func remount(readOnly: Bool) throws {
    try Self.mount(["-o", "remount,\(readOnly ? "ro" : "rw")", path])
  }

  /// Fills the filesystem to the last byte with `<path>/filler`; returns the bytes written.
  @discardableResult
  func fill() throws -> Int {
    let filler = path + "/filler"
    _ = FileManager.default.createFile(atPath: filler, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: filler))
    defer { try? handle.close() }
    let chunk = Data(count: 64 * 1024)
    var written = 0
    // Whole chunks until one no longer fits, then single pages: the last free page counts.
    for size in [chunk.count, 4096] {
      while (try? handle.write(contentsOf: chunk.prefix(size))) != nil { written += size }
    }
    return written
  }

  /// Removes the filler: the space comes back.
  func drain() throws { try FileManager.default.removeItem(atPath: path + "/filler") }

  func unmount() { try? Self.run("/usr/bin/umount", ["--lazy", path]) }

  /// Whether this process may mount a tmpfs, probed once.
  static let isAvailable: Bool = {
    guard let directory = try? TemporaryDirectory() else { return false }
    defer { withExtendedLifetime(directory) {} }
    guard let mount = try? TmpfsMount(at: directory.path + "/probe", megabytes: 1) else { return false }
    mount.unmount()
    return true
  }()

  private static func mount(_ arguments: [String]) throws { try run("/usr/bin/mount", arguments) }

  private static func run(_ tool: String, _ arguments: [String]) throws {
    let (ended, output) = try SpawnedProcess.run(tool, arguments)
    guard ended == .exited(0) else {
      throw TestFailure("\(tool) \(arguments.joined(separator: " ")) failed (\(ended)): \(output)")
    }
  }
}
