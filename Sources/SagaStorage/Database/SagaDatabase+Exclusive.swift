import Foundation
public import GRDB

/// A stopped instance's SQLite file, opened by a tool that must be its only user
/// (`sagad migrate-storage`).
extension SagaDatabase {
  /// Opens the existing file at `path` on one connection that holds SQLite's exclusive lock
  /// from now until it closes, so no other process reads or writes it meanwhile (a sagad
  /// started during the copy fails to open it). The file must already be at `migrator`'s
  /// last migration: it is neither migrated nor written.
  /// - Throws: ``StorageError`` naming the file: `.busy` while another process has it open
  ///   (a running sagad), `.cannotOpen` when it does not exist, `.other` when its schema is
  ///   older or newer than `migrator`'s.
  public convenience init(exclusive path: String, migrator: DatabaseMigrator) throws {
    let queue = try Self.openExclusive(path)
    let (applied, known): (Set<String>, [String])
    do {
      (applied, known) = try queue.read { db in (try migrator.appliedIdentifiers(db), migrator.migrations) }
    } catch let error as DatabaseError {
      throw StorageError(error, path: queue.path)
    }
    let newer = applied.subtracting(known)
    guard newer.isEmpty else {
      throw StorageError(
        kind: .other, code: 0, path: queue.path,
        message:
          "written by a newer sagad (migrations \(newer.sorted().joined(separator: ", ")) unknown to this binary)"
      )
    }
    let missing = known.filter { !applied.contains($0) }
    guard missing.isEmpty else {
      throw StorageError(
        kind: .other, code: 0, path: queue.path,
        message: "the file is at an older schema (missing \(missing.joined(separator: ", "))): start this sagad on it "
          + "once, which upgrades it, stop it, then run this again")
    }
    self.init(unmigrated: queue)
  }

  /// One connection in `locking_mode = EXCLUSIVE`, locked at once. A plain `BEGIN EXCLUSIVE`
  /// would not do: in WAL mode it only keeps other writers out, and an idle sagad holds no
  /// write lock; in exclusive locking mode the lock also excludes every other connection.
  private static func openExclusive(_ path: String) throws -> DatabaseQueue {
    let path = URL(fileURLWithPath: path).standardizedFileURL.path
    guard FileManager.default.fileExists(atPath: path) else {
      throw StorageError(
        kind: .cannotOpen, code: ResultCode.SQLITE_CANTOPEN.rawValue, path: path, message: "no such file")
    }
    var configuration = Configuration()
    configuration.label = URL(fileURLWithPath: path).lastPathComponent
    configuration.busyMode = .immediateError
    configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE") }
    do {
      let queue = try DatabaseQueue(path: path, configuration: configuration)
      // Held after the commit: exclusive locking mode releases nothing until the connection closes.
      try queue.writeWithoutTransaction { db in try db.execute(sql: "BEGIN EXCLUSIVE; COMMIT") }
      return queue
    } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
      throw StorageError(
        kind: .busy, code: error.extendedResultCode.rawValue, path: path,
        message: "another process has the file open (is sagad still running on it? stop it first)")
    } catch let error as DatabaseError {
      throw StorageError(error, path: path)
    }
  }
}
