import Foundation
import SagaTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// Makes a directory that this process cannot create files in. `chmod 0555` is
/// enough for a normal user, but root (as CI runs) ignores permission bits, so as
/// root the directory is also made immutable with `chattr +i`, which binds root
/// too on ext4, the filesystem of this project's machines.
enum ReadOnlyDirectory {
  static func lock(_ url: URL) throws {
    try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: url.path)
    if geteuid() == 0 { try chattr("+i", url) }
  }

  /// Undoes ``lock(_:)`` so that the temporary directory can be removed.
  static func unlock(_ url: URL) {
    if geteuid() == 0 { try? chattr("-i", url) }
    try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
  }

  /// Whether ``lock(_:)`` really stops this process from writing here, probed once.
  static let canBeMade: Bool = {
    guard let directory = try? TemporaryDirectory() else { return false }
    let probe = directory.url
    // Unlocked below before the directory goes, so that it can be removed.
    defer { withExtendedLifetime(directory) {} }
    guard (try? lock(probe)) != nil else {
      unlock(probe)
      return false
    }
    let wrote = FileManager.default.createFile(atPath: probe.appendingPathComponent("x").path, contents: nil)
    unlock(probe)
    return !wrote
  }()

  private static func chattr(_ flag: String, _ url: URL) throws {
    guard try SpawnedProcess.run("/usr/bin/chattr", [flag, url.path]).0 == .exited(0) else {
      throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: url.path])
    }
  }
}
