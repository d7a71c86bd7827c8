import Foundation
public import GRDB

/// One service's database: on SQLite a GRDB `DatabasePool` on one file (an in-memory
/// `DatabaseQueue` in unit tests), on PostgreSQL a schema of its own (``PostgresEngine``),
/// with the storage tables (outbox, inbox, retry schedule, dead-letter marks) and the
/// service's own schema migrated on open. It is what the runtime's relay and workers use;
/// each service wraps it in its `ServiceDatabase` (`PaymentsDatabase`, `PointsDatabase`),
/// whose schema owns the service's migrations. The stores see only ``SQLConnection``.
///
/// ## Durability: WAL and `synchronous=FULL` by default
///
/// WAL lets the metrics scrape, the admin socket and the outbox relay read while a
/// consumer batch writes, without either waiting for the other: readers see the
/// last committed state, the single writer appends to the log.
///
/// In WAL mode `synchronous=FULL` fsyncs the log at every commit, so a transaction
/// that returned from `write` is on disk: a payment the user was told about, or a
/// reward whose Kafka offset is about to be committed, survives a power loss or a
/// kernel panic, not just a process crash. Batching (Docs/design.md, "Local transaction per batch") amortises the
/// fsync over many messages, which is how FULL still reaches the throughput goals.
///
/// `normal` fsyncs only at checkpoints. The file can never be corrupted, and a
/// process crash loses nothing, but a power loss can roll back the last commits.
/// For Points that means re-processing (the offsets were committed, so Kafka will
/// not redeliver: a reward can go missing); for Payments a `pay` already answered
/// can vanish. Choose `normal` only on hosts whose storage has power-loss
/// protection, or for benchmarks and development.
///
/// All access is through ``write(_:)`` and ``read(_:)``, which run the closure on a thread
/// of the engine's own (GRDB's dispatch queues, or the PostgreSQL engine's thread pool) and
/// suspend the caller, so a slow fsync or a server round trip never blocks a thread of
/// Swift's cooperative pool.
public final class SagaDatabase: Sendable {
  /// Where the data is, as errors name it: the absolute path of the SQLite file (`:memory:`
  /// for an in-memory database), or the PostgreSQL URL (without password) and schema.
  public let path: String
  private let backend: Backend

  private enum Backend: Sendable {
    case sqlite(any DatabaseWriter)
    case postgres(PostgresEngine)
  }

  /// The engine this database runs on.
  public var engine: SQLEngine {
    switch backend {
    case .sqlite: .sqlite
    case .postgres: .postgres
    }
  }

  /// A lease named `name` among the instances sharing this database; nil on SQLite, where a
  /// database has one instance.
  public func lease(named name: String) -> (any DatabaseLease)? {
    if case .postgres(let engine) = backend { return engine.lease(named: name) }
    return nil
  }

  /// Whether this instance's transactions that write outbox rows announce their commit to the
  /// relay of another instance on the same PostgreSQL database (``PostgresEngine/announceOutboxWrites(_:)``):
  /// a relay turns it on while it is a standby. Nothing on SQLite, where a database has one instance.
  public func announceOutboxWrites(_ announce: Bool) {
    if case .postgres(let engine) = backend { engine.announceOutboxWrites(announce) }
  }

  /// Calls `notified` with every commit another instance announces (``announceOutboxWrites(_:)``)
  /// until the task is cancelled (``PostgresEngine/listenForOutboxWrites(listening:_:)``), after
  /// `listening`; on SQLite, where nobody announces, waits for the cancellation.
  /// - Throws: ``StorageError`` when the listening connection cannot be opened or fails.
  public func listenForOutboxWrites(
    listening: @Sendable () -> Void = {}, _ notified: @escaping @Sendable (OutboxAnnouncement) -> Void
  ) async throws {
    switch backend {
    case .postgres(let engine): try await engine.listenForOutboxWrites(listening: listening, notified)
    case .sqlite:
      while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }
  }

  /// The SQLite writer (GRDB's), for tests and SQLite-only tools; nil on PostgreSQL.
  public var sqlite: (any DatabaseWriter)? {
    if case .sqlite(let writer) = backend { return writer }
    return nil
  }

  /// A database on PostgreSQL, already migrated (``PostgresEngine/open(_:schema:migrations:logger:)``).
  public init(postgres engine: PostgresEngine) {
    path = engine.location
    backend = .postgres(engine)
  }

  /// Opens (creating if needed) the database at `configuration.path` and runs the
  /// storage migrations followed by those `migrations` registers.
  ///
  /// Blocking: call it while the daemon starts, before serving anything.
  /// - Parameter storageTables: false for a database that is not a service's (the
  ///   dead-letter store): it then gets only the tables `migrations` creates.
  /// - Throws: ``StorageError`` naming the file when it cannot be opened or migrated.
  public convenience init(
    _ configuration: StorageConfiguration,
    storageTables: Bool = true,
    migrations: (inout DatabaseMigrator) -> Void = { _ in }
  ) throws {
    try self.init(Self.openPool(configuration), migrator: Self.migrator(storageTables: storageTables, migrations))
  }

  /// Takes a database GRDB already opened (the file pool of ``openPool(_:)``, or an
  /// in-memory `DatabaseQueue()` in tests) and migrates it with `migrator` (see
  /// ``migrator(storageTables:_:)``). A service's database type (GRDB's AppDatabase
  /// pattern) is built on this.
  /// - Throws: ``StorageError`` naming the file when it cannot be migrated or written.
  public init(_ writer: any DatabaseWriter, migrator: DatabaseMigrator) throws {
    let path = writer.path
    self.path = path
    backend = .sqlite(writer)
    do {
      try migrator.migrate(writer)
      // SQLite opens a file it cannot write read-only without a word (a filesystem
      // remounted read-only, an immutable file), and migrations already applied write
      // nothing: sagad would start, then fail every pay and event. One header write
      // proves the database writable now, so such a start fails naming the file.
      try writer.write { db in
        let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        try db.execute(sql: "PRAGMA user_version = \(version)")
      }
    } catch let error as DatabaseError {
      throw Self.explainingOpenFailure(StorageError(error, path: path))
    } catch {
      throw StorageError.mapping(error, path: path)
    }
  }

  /// Takes `writer` as it is, neither migrating nor writing it: a stopped instance's file that
  /// a tool only reads (``init(exclusive:migrator:)``).
  init(unmigrated writer: any DatabaseWriter) {
    path = writer.path
    backend = .sqlite(writer)
  }

  /// The migrations of a service database: the storage tables (outbox, inbox, retry
  /// schedule, dead-letter marks), then those `migrations` registers.
  /// - Parameter storageTables: false for a database that is not a service's.
  public static func migrator(
    storageTables: Bool = true, _ migrations: (inout DatabaseMigrator) -> Void = { _ in }
  ) -> DatabaseMigrator {
    var migrator = DatabaseMigrator()
    if storageTables { StorageMigrations.register(in: &migrator) }
    migrations(&migrator)
    return migrator
  }

  /// Opens (creating if needed) the file at `configuration.path` as sagad runs every
  /// database: a WAL pool with `configuration.synchronous`, foreign keys, the busy
  /// timeout and the reader count. Nothing is migrated yet.
  /// - Throws: ``StorageError`` naming the file when it cannot be opened.
  public static func openPool(_ configuration: StorageConfiguration) throws -> DatabasePool {
    let path = URL(fileURLWithPath: configuration.path).standardizedFileURL.path
    _ = SQLiteProcess.tuned
    do {
      try createParentDirectory(of: path)
      let synchronous = "PRAGMA synchronous = \(configuration.synchronous.rawValue.uppercased())"
      var grdb = Configuration()
      grdb.label = URL(fileURLWithPath: path).lastPathComponent
      grdb.journalMode = .wal
      grdb.foreignKeysEnabled = true
      grdb.maximumReaderCount = max(1, configuration.readers)
      grdb.busyMode =
        configuration.busyTimeout > .zero ? .timeout(configuration.busyTimeout.timeInterval) : .immediateError
      grdb.prepareDatabase { db in
        try db.execute(sql: synchronous)
        // Every consumed record and every pay runs in a savepoint, and SQLite keeps the
        // pages a savepoint changed in a statement journal. With file temp storage that
        // journal spills to a temporary file past 64 KiB and then costs a pwrite per page
        // (~9 % of the saga's CPU in a profile); in memory it costs a copy. It holds no
        // durable data (the WAL does), so FULL durability is unchanged.
        try db.execute(sql: "PRAGMA temp_store = MEMORY")
      }
      let pool = try DatabasePool(path: path, configuration: grdb)
      // GRDB switches the writer to synchronous=NORMAL while enabling WAL, after
      // prepareDatabase ran: set the configured level again on the writer, which
      // is opened once and kept for the pool's life.
      try pool.writeWithoutTransaction { db in try db.execute(sql: synchronous) }
      return pool
    } catch let error as DatabaseError {
      throw explainingOpenFailure(StorageError(error, path: path))
    } catch {
      throw StorageError.mapping(error, path: path)
    }
  }

  /// Runs `updates` in one write transaction (SQLite: IMMEDIATE; PostgreSQL: READ
  /// COMMITTED), committed if it returns and rolled back if it throws.
  /// - Throws: ``StorageError`` for the engine's failures, or what `updates` threw.
  public func write<T: Sendable>(_ updates: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
    switch backend {
    case .sqlite(let writer):
      do {
        return try await writer.write { db in try updates(db) }
      } catch {
        throw StorageError.mapping(error, path: path)
      }
    case .postgres(let engine):
      return try await engine.write(updates)
    }
  }

  /// The most rows of one table that ``writeInOneStatement(_:)`` holds (one held write per
  /// table; PostgreSQL): more are refused.
  public static var mostRowsPerHeldWrite: Int { DeferredWrites.maxRows }

  /// Runs `updates` as one atomic write with no transaction around it, where the engine
  /// allows. PostgreSQL: each read of `updates` is a statement on its own (autocommit: its own
  /// snapshot, no lock kept), and its writes, all held (``SQLConnection/executeDeferred(_:_:)``),
  /// go at the end as one statement, atomic by itself: two round trips where a transaction of
  /// the same reads and writes costs five (`BEGIN`, a lock, the reads, the writes, `COMMIT`).
  /// Nothing is locked between the reads and the write, so the writes must hold only while
  /// what was read still holds (a compare-and-set, a unique key, a `CHECK`): a change in
  /// between fails the statement, and nothing of it is written. A statement that would send
  /// the held writes before the end (a statement after a held write, a write that cannot be
  /// held, a second held write of a table that cannot join the first) is refused
  /// (``StorageError``, kind `.other`), nothing written. SQLite runs it as ``write(_:)``: its
  /// one writer leaves nothing to race.
  /// - Throws: ``StorageError`` for the engine's failures and refusals, or what `updates` threw.
  public func writeInOneStatement<T: Sendable>(
    _ updates: @escaping @Sendable (any SQLConnection) throws -> T
  ) async throws -> T {
    switch backend {
    case .sqlite: try await write(updates)
    case .postgres(let engine): try await engine.writeInOneStatement(updates)
    }
  }

  /// Runs `value` in a read transaction that sees one committed state.
  /// - Throws: ``StorageError`` for the engine's failures, or what `value` threw.
  public func read<T: Sendable>(_ value: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
    switch backend {
    case .sqlite(let writer):
      do {
        return try await writer.read { db in try value(db) }
      } catch {
        throw StorageError.mapping(error, path: path)
      }
    case .postgres(let engine):
      return try await engine.read(value)
    }
  }

  /// Runs `statement`, a body of one statement, where a read transaction is not needed for
  /// it to see one committed state (a single statement always does). SQLite reads as
  /// ``read(_:)``; PostgreSQL sends no BEGIN and COMMIT around it: one round trip instead
  /// of three (the relay reads its next rows this way). A body that runs several statements
  /// here gets a snapshot per statement; use ``read(_:)`` for it.
  /// - Throws: ``StorageError`` for the engine's failures, or what `statement` threw.
  public func readStatement<T: Sendable>(
    _ statement: @escaping @Sendable (any SQLConnection) throws -> T
  ) async throws -> T {
    switch backend {
    case .sqlite: try await read(statement)
    case .postgres(let engine): try await engine.readStatement(statement)
    }
  }

  /// Closes every connection; later accesses fail. Optional for SQLite: the connections
  /// also close when the last reference goes away.
  public func close() async throws {
    switch backend {
    case .sqlite(let writer):
      do {
        try writer.close()
      } catch {
        throw StorageError.mapping(error, path: path)
      }
    case .postgres(let engine):
      await engine.close()
    }
  }

  /// The file behind `db`, for errors raised where only a connection is at hand.
  static func path(of db: Database) -> String {
    let file = try? String.fetchOne(db, sql: "SELECT file FROM pragma_database_list WHERE name = 'main'")
    return file.flatMap { $0 } ?? "(unknown database file)"
  }

  /// SQLite's "unable to open database file" does not say why; the usual reason
  /// on a server is a directory the daemon's user cannot write to, so say so.
  private static func explainingOpenFailure(_ error: StorageError) -> StorageError {
    guard error.kind == .cannotOpen || error.kind == .readOnly else { return error }
    return StorageError(
      kind: error.kind, code: error.code, path: error.path,
      message: error.message
        + "; the file and its directory must be writable by this process, which creates -wal and -shm files beside it"
    )
  }

  private static func createParentDirectory(of path: String) throws {
    let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw StorageError(
        kind: .cannotOpen, code: ResultCode.SQLITE_CANTOPEN.rawValue, path: path,
        message: "cannot create the directory \(directory): \(error.localizedDescription)")
    }
  }
}
