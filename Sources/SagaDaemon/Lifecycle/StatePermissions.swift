import Foundation
import Logging

#if canImport(Glibc)
  import Glibc
#endif

/// Who may read sagad's state: the databases hold every wallet and payment, so nobody but
/// sagad's own user, unless `state_dir_group` names a group for shared read access (backups,
/// an auditor). That group is deliberately not the admin socket's: being allowed to ask
/// `sagactl balance` must not mean being able to copy `payments.sqlite`.
///
/// sagad sets its umask to 0077 before it creates anything, so every file it makes is 0600
/// whatever the shell or unit said; this type then tightens the state directory and the
/// files already in it (an older sagad, or a copy, may have left them world-readable).
struct StatePermissions {
  /// The directory's and files' modes without and with a shared group.
  static let privateDirectory: mode_t = 0o700
  static let privateFile: mode_t = 0o600
  static let sharedDirectory: mode_t = 0o750
  static let sharedFile: mode_t = 0o640

  let directory: String
  /// The group of `state_dir_group`, nil when unset.
  let group: gid_t?

  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  /// `umask(0077)` for the whole process: call it first thing.
  static func restrictUmask() {
    umask(0o077)
  }

  /// Resolves `state_dir_group` (a group name or a numeric gid).
  static func resolveGroup(_ name: String?) throws(Failure) -> gid_t? {
    guard let name, !name.isEmpty else { return nil }
    if let gid = gid_t(name) { return gid }
    guard let entry = getgrnam(name) else {
      throw Failure(description: "state_dir_group: no group named '\(name)'")
    }
    return entry.pointee.gr_gid
  }

  /// Creates the directory if needed and sets its mode and that of the files directly in it
  /// (the databases and their -wal/-shm, the address and bootstrap files). Sockets and
  /// directories below are left alone.
  func apply(logger: Logger) throws(Failure) {
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw Failure(description: "cannot create state_dir \(directory): \(error.localizedDescription)")
    }
    try set(directory, mode: group == nil ? Self.privateDirectory : Self.sharedDirectory)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    for name in names.sorted() {
      let path = directory + "/" + name
      var info = stat()
      guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
      do {
        try set(path, mode: group == nil ? Self.privateFile : Self.sharedFile)
      } catch {
        // A file sagad does not own (someone else's, in a shared directory) is not fatal.
        logger.warning("state file permissions not changed", metadata: ["path": "\(path)", "error": "\(error)"])
      }
    }
  }

  private func set(_ path: String, mode: mode_t) throws(Failure) {
    if let group, chown(path, uid_t.max, group) != 0 {
      throw Failure(description: "cannot give \(path) to group \(group): \(String(cString: strerror(errno)))")
    }
    guard chmod(path, mode) == 0 else {
      throw Failure(
        description: "cannot set mode \(String(mode, radix: 8)) on \(path): \(String(cString: strerror(errno)))")
    }
  }
}
