import Foundation
import GRDB
import SagaStorage
import SagaTestSupport
import Testing

@Suite("StorageError", .postgresServer, .timeLimit(.minutes(2)))
struct StorageErrorTests {
  @Test(
    "SQLite codes map to a kind and a retry verdict",
    arguments: [
      (ResultCode.SQLITE_BUSY, StorageError.Kind.busy, true),
      (.SQLITE_BUSY_SNAPSHOT, .busy, true),
      (.SQLITE_PROTOCOL, .busy, true),
      (.SQLITE_LOCKED, .locked, true),
      (.SQLITE_IOERR, .ioError, true),
      (.SQLITE_IOERR_FSYNC, .ioError, true),
      (.SQLITE_IOERR_WRITE, .ioError, true),
      (.SQLITE_IOERR_CORRUPTFS, .ioError, false),
      (.SQLITE_IOERR_DATA, .ioError, false),
      (.SQLITE_NOMEM, .outOfMemory, true),
      (.SQLITE_FULL, .full, false),
      (.SQLITE_READONLY, .readOnly, false),
      (.SQLITE_READONLY_DIRECTORY, .readOnly, false),
      (.SQLITE_CORRUPT, .corrupt, false),
      (.SQLITE_NOTADB, .corrupt, false),
      (.SQLITE_CANTOPEN, .cannotOpen, false),
      (.SQLITE_CONSTRAINT_UNIQUE, .constraint, false),
      (.SQLITE_ERROR, .other, false),
    ])
  func mapping(code: ResultCode, kind: StorageError.Kind, retriable: Bool) {
    let error = StorageError(DatabaseError(resultCode: code), path: "/var/lib/sagad/payments.sqlite")
    #expect(error.kind == kind)
    #expect(error.code == code.rawValue)
    #expect(error.isRetriable == retriable)
    #expect(error.isStorageFault == (kind != .constraint && kind != .other))
    #expect(error.description.contains("/var/lib/sagad/payments.sqlite"))
    #expect(error.description.contains(retriable ? "retriable" : "not retriable"))
  }

  @Test("mapping leaves errors that are not SQLite's unchanged")
  func mappingPassesThrough() {
    #expect(StorageError.mapping(InjectedFailure(), path: "x") as? InjectedFailure == InjectedFailure())
    #expect(StorageError.mapping(DatabaseError(resultCode: .SQLITE_BUSY), path: "x") is StorageError)
  }

  @Test("a write lock held by another pool is a retriable busy error; reads go on; the retry succeeds")
  func busy() async throws {
    try await TemporaryDirectory.with { directory in
      let path = directory.appending("db.sqlite").path
      let database = try SagaDatabase(StorageConfiguration(path: path, busyTimeout: .milliseconds(10)))
      // The other pool stands for a second process. Its lock is taken before our
      // write starts and released after it failed: ordering, not timing, decides.
      var holderConfiguration = Configuration()
      holderConfiguration.allowsUnsafeTransactions = true
      let holder = try DatabasePool(path: path, configuration: holderConfiguration)
      _ = try await holder.writeWithoutTransaction { db in try db.execute("BEGIN IMMEDIATE") }

      let error = await #expect(throws: StorageError.self) {
        try await database.write { db in _ = try Outbox.append(message(), in: db) }
      }
      #expect(error?.kind == .busy)
      #expect(error?.isRetriable == true)
      #expect(error?.description.contains(path) == true)
      let pending = try await pendingCount(database)
      #expect(pending == 0)

      _ = try await holder.writeWithoutTransaction { db in try db.execute("ROLLBACK") }
      try await database.write { db in _ = try Outbox.append(message(), in: db) }
      let pendingAfterRetry = try await pendingCount(database)
      #expect(pendingAfterRetry == 1)
    }
  }

  @Test(
    "a constraint violation inside write surfaces as a non-retriable constraint error", arguments: SQLEngine.allCases)
  func constraint(engine: SQLEngine) async throws {
    try await withDatabase(on: engine) { database in
      let error = await #expect(throws: StorageError.self) {
        try await database.write { db in
          for _ in 0..<2 {
            try db.execute(
              """
              INSERT INTO inbox (consumer_group, event_id, topic, "partition", "offset", processed_at)
              VALUES ('g', 'e', 't', 0, 0, 0)
              """)
          }
        }
      }
      #expect(error?.kind == .constraint)
      #expect(error?.isRetriable == false)
      #expect(error?.isStorageFault == false)
    }
  }

  @Test(
    "opening a file in a read-only directory fails clearly, not retriable, naming the path",
    .enabled(if: ReadOnlyDirectory.canBeMade, "needs a directory this process cannot write to"))
  func readOnlyDirectory() async throws {
    try await TemporaryDirectory.with { directory in
      let locked = directory.appending("locked")
      try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
      try ReadOnlyDirectory.lock(locked)
      defer { ReadOnlyDirectory.unlock(locked) }
      let path = locked.appendingPathComponent("payments.sqlite").path

      let error = #expect(throws: StorageError.self) { try SagaDatabase(StorageConfiguration(path: path)) }
      #expect(error?.isRetriable == false)
      #expect(error?.isStorageFault == true)
      #expect(error?.kind == .cannotOpen)
      #expect(error?.path == path)
      #expect(error?.description.contains(path) == true)
      #expect(error?.message.contains("must be writable") == true)
    }
  }

  @Test(
    "a database left by a crash on a filesystem turned read-only refuses to open instead of opening read-only",
    .enabled(if: ReadOnlyDirectory.canBeMade, "needs a directory this process cannot write to"))
  func readOnlyExistingDatabase() async throws {
    try await TemporaryDirectory.with { directory in
      let original = directory.appending("payments.sqlite").path
      let copy = directory.appending("crashed")
      try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
      // Copied while the first one is open: the database with its -wal and -shm as a
      // crash leaves them, migrations applied, so opening it needs no write at all.
      let open = try SagaDatabase(StorageConfiguration(path: original))
      _ = try await open.write { db in try db.execute("CREATE TABLE marker (id INTEGER)") }
      let files = ["payments.sqlite", "payments.sqlite-wal", "payments.sqlite-shm"]
      for file in files {
        try FileManager.default.copyItem(
          at: directory.appending(file), to: copy.appendingPathComponent(file))
      }
      try await open.close()
      let locked = files.map { copy.appendingPathComponent($0) } + [copy]
      for url in locked { try ReadOnlyDirectory.lock(url) }
      defer { for url in locked.reversed() { ReadOnlyDirectory.unlock(url) } }
      let path = copy.appendingPathComponent("payments.sqlite").path

      let error = #expect(throws: StorageError.self) { try SagaDatabase(StorageConfiguration(path: path)) }
      #expect(error?.isRetriable == false)
      #expect(error?.isStorageFault == true)
      #expect(error?.description.contains(path) == true)
    }
  }

  @Test("a parent path that is a file fails clearly, not retriable, naming the directory")
  func parentIsAFile() async throws {
    try await TemporaryDirectory.with { directory in
      let file = directory.appending("not-a-directory")
      #expect(FileManager.default.createFile(atPath: file.path, contents: Data("x".utf8)))
      let path = file.appendingPathComponent("state/payments.sqlite").path

      let error = #expect(throws: StorageError.self) { try SagaDatabase(StorageConfiguration(path: path)) }
      #expect(error?.kind == .cannotOpen)
      #expect(error?.isRetriable == false)
      #expect(error?.description.contains(file.path) == true)
    }
  }
}
