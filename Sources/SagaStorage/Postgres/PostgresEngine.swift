import Foundation
public import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import SagaCore
import Synchronization

/// One service's state in PostgreSQL (Docs/storage-engines.md): a schema of its own, a pool of
/// connections whose `search_path` is that schema, and a thread pool on which the stores'
/// synchronous code runs each transaction, blocking only those threads while the server
/// answers (never Swift's cooperative pool, never an event loop).
public final class PostgresEngine: Sendable {
  public let configuration: PostgresStorageConfiguration
  public let schema: String
  private let pool: PostgresConnectionPool
  private let threads: NIOThreadPool
  private let logger: Logger
  /// Whether a commit that wrote outbox rows notifies ``outboxChannel`` (see
  /// ``announceOutboxWrites(_:)``).
  private let announcing = Atomic(false)

  /// The channel on which commits that wrote this schema's outbox are announced (`NOTIFY`): a
  /// name of the schema's own, cut to PostgreSQL's 63 bytes.
  public let outboxChannel: String

  /// Where errors say the data is.
  public var location: String { "\(configuration.redactedURL) schema \(schema)" }

  /// Connects (one connection, to fail early on a wrong URL or password), creates the schema
  /// and runs `migrations` under an advisory lock (see ``PostgresMigrator``).
  /// - Throws: ``StorageError``: `.unavailable` while the server cannot be reached (the
  ///   caller may wait and retry), `.cannotOpen` for a refused login or a missing database,
  ///   `.other` for a schema newer than this binary.
  public static func open(
    _ configuration: PostgresStorageConfiguration, schema: String, migrations: [PostgresMigration], logger: Logger
  ) async throws -> PostgresEngine {
    let engine = PostgresEngine(configuration, schema: schema, logger: logger)
    do {
      let connection = try await engine.pool.acquire()
      let migrator = PostgresMigrator(schema: schema, migrations: migrations, location: engine.location)
      do {
        try await engine.threads.runIfActive { try migrator.migrate(connection) }
      } catch {
        await engine.pool.release(connection)
        throw error
      }
      await engine.pool.release(connection)
    } catch {
      await engine.close()
      throw StorageError(postgres: error, location: engine.location)
    }
    // The rest of the pool now, as a fixed-size pool: a server that refuses more sessions
    // shows at start, and the first load does not wait for sessions to start.
    await engine.pool.prime()
    return engine
  }

  /// Connects (one connection, to fail early) without creating or migrating anything: for
  /// tools that only look at a database (`sagad migrate-storage` checks its target with it).
  /// - Throws: ``StorageError``, as ``open(_:schema:migrations:logger:)`` does.
  public static func connect(
    _ configuration: PostgresStorageConfiguration, schema: String, logger: Logger
  ) async throws -> PostgresEngine {
    let engine = PostgresEngine(configuration, schema: schema, logger: logger)
    do {
      await engine.pool.release(try await engine.pool.acquire())
    } catch {
      await engine.close()
      throw StorageError(postgres: error, location: engine.location)
    }
    return engine
  }

  private init(_ configuration: PostgresStorageConfiguration, schema: String, logger: Logger) {
    self.configuration = configuration
    self.schema = schema
    self.logger = logger
    outboxChannel = "sagad_outbox_\(schema)".prefix(utf8Bytes: 63)
    let threads = NIOThreadPool(numberOfThreads: max(1, configuration.poolSize))
    threads.start()
    self.threads = threads
    let location = "\(configuration.redactedURL) schema \(schema)"
    pool = PostgresConnectionPool(size: configuration.poolSize) { [configuration, schema, logger] in
      try await Self.connect(configuration, schema: schema, location: location, logger: logger)
    }
  }

  /// Runs `updates` in one transaction (READ COMMITTED, PostgreSQL's default: the stores'
  /// statements are written so that concurrent instances meet on unique keys and row locks),
  /// committed if it returns, rolled back if it throws.
  public func write<T: Sendable>(_ updates: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
    try await transaction("BEGIN", updates)
  }

  /// Runs `value` in a read-only transaction that sees one snapshot.
  public func read<T: Sendable>(_ value: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
    try await transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", value)
  }

  /// Runs `statement` outside a transaction (autocommit): see ``SagaDatabase/readStatement(_:)``.
  public func readStatement<T: Sendable>(
    _ statement: @escaping @Sendable (any SQLConnection) throws -> T
  ) async throws -> T {
    try await transaction(nil, statement)
  }

  /// From now on, whether a transaction that wrote outbox rows notifies ``outboxChannel`` as it
  /// commits, naming the rows (``OutboxAnnouncement``): on in an instance whose relay is a
  /// standby, so that the lease holder's relay (``listenForOutboxWrites(listening:_:)``) reads and
  /// publishes those rows at once rather than at its next scan (Docs/storage-engines.md,
  /// "Leases"). The `NOTIFY` goes with the `COMMIT`, no round trip of its own, and is delivered
  /// only if the transaction commits.
  public func announceOutboxWrites(_ announce: Bool) {
    announcing.store(announce, ordering: .relaxed)
  }

  /// Calls `notified` with every announced commit of this schema's outbox (``announceOutboxWrites(_:)``),
  /// on a connection of its own that listens on ``outboxChannel``, until the task is cancelled
  /// (returns) or the connection fails (throws ``StorageError``). `listening` runs once the
  /// server has the `LISTEN`: commits from then on are heard.
  public func listenForOutboxWrites(
    listening: @Sendable () -> Void = {}, _ notified: @escaping @Sendable (OutboxAnnouncement) -> Void
  ) async throws {
    let connection: PostgresSQLConnection
    do {
      connection = try await Self.connect(configuration, schema: schema, location: location, logger: logger)
    } catch {
      throw StorageError(postgres: error, location: location)
    }
    do {
      try await connection.connection.listen(on: outboxChannel) { notifications in
        listening()
        for try await notification in notifications { notified(OutboxAnnouncement(payload: notification.payload)) }
      }
    } catch {
      try? await connection.connection.close()
      if Task.isCancelled { return }
      throw StorageError(postgres: error, location: location)
    }
    try? await connection.connection.close()
  }

  /// A lease named `name` in this engine's database (see ``PostgresLease``).
  public func lease(named name: String) -> PostgresLease {
    PostgresLease(name: name, configuration: configuration, logger: logger)
  }

  public func close() async {
    await pool.close()
    try? await threads.shutdownGracefully()
  }

  /// Runs `updates` as one statement: see ``SagaDatabase/writeInOneStatement(_:)``.
  public func writeInOneStatement<T: Sendable>(
    _ updates: @escaping @Sendable (any SQLConnection) throws -> T
  ) async throws -> T {
    try await onConnection { connection in
      connection.beginOneStatement()
      do {
        let value = try updates(connection)
        var notify: (sql: String, arguments: [SQLValue])?
        if let written = connection.takeOutboxWrites(), self.announcing.load(ordering: .relaxed) {
          // The statement's main part: delivered only if its writes commit.
          notify = ("SELECT pg_notify(?, ?)", [.text(self.outboxChannel), .text(written.payload)])
        }
        try connection.finishOneStatement(notifying: notify)
        return value
      } catch {
        connection.abandonOneStatement()
        throw error
      }
    }
  }

  /// - Parameter begin: the statement that opens the transaction; nil runs `body` in
  ///   autocommit, each statement on its own.
  private func transaction<T: Sendable>(
    _ begin: String?, _ body: @escaping @Sendable (any SQLConnection) throws -> T
  ) async throws -> T {
    try await onConnection { connection in
      guard let begin else {
        // Autocommit: a write held back would otherwise never be sent.
        let value = try body(connection)
        try connection.flushDeferred()
        return value
      }
      connection.begin(begin)
      do {
        let value = try body(connection)
        if let written = connection.takeOutboxWrites(), self.announcing.load(ordering: .relaxed) {
          // Sent unanswered, it rides with the COMMIT: one round trip for both.
          try connection.sendUnanswered("SELECT pg_notify(?, ?)", [self.outboxChannel, written.payload])
        }
        try connection.commit()
        return value
      } catch {
        // Also after a failed commit: its held writes may have failed in front of the
        // COMMIT, which leaves the session in an aborted transaction until a ROLLBACK.
        try? connection.rollback()
        throw error
      }
    }
  }

  /// Runs `body` with a connection of the pool on one of the engine's threads.
  private func onConnection<T: Sendable>(
    _ body: @escaping @Sendable (PostgresSQLConnection) throws -> T
  ) async throws -> T {
    let connection: PostgresSQLConnection
    do {
      connection = try await pool.acquire()
    } catch {
      throw StorageError(postgres: error, location: location)
    }
    do {
      // The pool's thread may release its closure (and `body`) after this task resumed, so
      // `body` escapes for real.
      let value = try await threads.runIfActive { try body(connection) }
      await pool.release(connection)
      return value
    } catch {
      await pool.release(connection)
      throw StorageError.mapping(error, path: location)
    }
  }

  private static func connect(
    _ configuration: PostgresStorageConfiguration, schema: String, location: String, logger: Logger
  ) async throws -> PostgresSQLConnection {
    var options = PostgresConnection.Configuration.Options()
    options.connectTimeout = .milliseconds(Int64(configuration.connectTimeout.timeInterval * 1_000))
    let timeout = Int64(configuration.statementTimeout.timeInterval * 1_000)
    options.additionalStartupParameters = [
      ("search_path", schema), ("statement_timeout", "\(timeout)"),
      ("application_name", configuration.applicationName),
      // Prepared statements take their values as literals (PreparedStatements.literal).
      ("standard_conforming_strings", "on"),
    ]
    var connection = try endpoint(configuration)
    connection.options = options
    do {
      let opened = try await PostgresConnection.connect(
        on: MultiThreadedEventLoopGroup.singleton.next(), configuration: connection,
        id: nextConnectionID.add(1, ordering: .relaxed).newValue, logger: logger)
      return PostgresSQLConnection(
        opened, schema: schema, location: location, patience: configuration.statementTimeout + .seconds(10),
        prepares: configuration.preparedStatements, logger: logger)
    } catch {
      throw StorageError(postgres: error, location: location)
    }
  }

  /// PostgresNIO's settings to reach `configuration`'s server: TCP with its TLS, or its
  /// Unix-domain socket when the host is a directory.
  static func endpoint(_ configuration: PostgresStorageConfiguration) throws -> PostgresConnection.Configuration {
    if let path = configuration.socketPath {
      return PostgresConnection.Configuration(
        unixSocketPath: path, username: configuration.user, password: configuration.password,
        database: configuration.database)
    }
    return PostgresConnection.Configuration(
      host: configuration.host, port: configuration.port, username: configuration.user,
      password: configuration.password, database: configuration.database, tls: try tls(configuration.sslMode))
  }

  static func tls(_ mode: PostgresStorageConfiguration.SSLMode) throws -> PostgresConnection.Configuration.TLS {
    switch mode {
    case .disable: return .disable
    case .prefer: return .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
    case .require: return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
    }
  }

  /// Connection ids for PostgresNIO's logs.
  private static let nextConnectionID = Atomic<Int>(0)
}
