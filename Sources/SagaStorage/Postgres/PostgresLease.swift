import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// A lease held as a PostgreSQL session advisory lock (Docs/storage-engines.md, "Leases"): the
/// outbox relay of a service and the stuck-saga sweeper run in one instance at a time, the
/// holder of the lock. The lock lives on a connection of its own, outside the pool: it is
/// released by the server the moment that session ends, so a holder that dies, or whose
/// connection breaks, frees it for a standby within seconds (the session's TCP keepalives
/// bound how long a silent network partition keeps it). The holder pings its session at most
/// once a second, and gives the lease up as soon as the session is gone or a query of it goes
/// unanswered for `patience`: well inside the ~11 s after which the server's keepalives end a
/// silent session and free the lock for a standby, so a cut-off holder stops first.
///
/// Its ping is a look at the database's advisory locks: a holder with two leases more than an
/// instance waiting for this one hands it over (``LeaseBalance``), so the instances share the
/// relays and the sweeper rather than the first to start holding them all.
public actor PostgresLease: DatabaseLease {
  public nonisolated let name: String
  private let key: String
  private let configuration: PostgresStorageConfiguration
  private let logger: Logger
  private var connection: PostgresConnection?
  private var held = false
  private var lastCheck = ContinuousClock.now
  /// The instance this holder is handing the lease to: the user of the lease (relay, sweeper)
  /// has been told it is gone and finishes its work; the next ``tryAcquire()`` unlocks.
  private var handingTo: String?
  /// The lock's key as the server hashes it (`hashtext`), read with the session.
  private var hash: Int32?
  /// After handing the lease over, this instance does not ask for it again before then, so the
  /// other instance (which asks every second) takes it.
  private var restingUntil: ContinuousClock.Instant?
  /// How long a lock query or ping may go unanswered before the session counts as gone.
  let patience: Duration
  /// The least time between two pings of a held lease's session.
  let checkInterval: Duration
  /// How long an instance leaves a lease it handed over to the other instance.
  let rest: Duration

  init(
    name: String, configuration: PostgresStorageConfiguration, patience: Duration = .seconds(3),
    checkInterval: Duration = .seconds(1), rest: Duration = .seconds(3), logger: Logger
  ) {
    self.patience = patience
    self.checkInterval = checkInterval
    self.rest = rest
    self.name = name
    self.key = Self.key(name)
    self.configuration = configuration
    self.logger = logger
  }

  /// The advisory lock's key text (hashed by the server), for `status` to find its holder.
  static func key(_ name: String) -> String { "sagad lease \(name)" }

  public func tryAcquire() async -> Bool {
    if held {
      if await check() { return true }
      if let successor = handingTo {
        // Its user has stopped publishing or sweeping: now the other instance may start.
        await release()
        restingUntil = .now + rest
        logger.notice("lease handed over", metadata: ["lease": "\(name)", "to": "\(successor)"])
      }
    }
    if let restingUntil, ContinuousClock.now < restingUntil { return false }
    restingUntil = nil
    do {
      let connection = try await session()
      let (key, logger) = (self.key, self.logger)
      held = try await answered(on: connection) { connection in
        let rows = try await connection.query("SELECT pg_try_advisory_lock(hashtext(\(key)))", logger: logger).collect()
        return try rows.first?.decode(Bool.self) ?? false
      }
      lastCheck = .now
    } catch {
      logger.debug("lease not taken", metadata: ["lease": "\(name)", "error": "\(String(reflecting: error))"])
      await drop()
    }
    return held
  }

  public func check() async -> Bool {
    guard held, handingTo == nil, let connection, !connection.isClosed else {
      if held, handingTo == nil { await lost("its session closed") }
      return false
    }
    guard ContinuousClock.now - lastCheck >= checkInterval else { return true }
    do {
      let logger = self.logger
      let locks = try await answered(on: connection) { connection in
        try await Self.advisoryLocks(on: connection, logger: logger)
      }
      lastCheck = .now
      if let hash, let successor = LeaseBalance(locks: locks).successor(of: hash, me: configuration.applicationName) {
        logger.notice(
          "lease to be handed to an instance holding fewer leases",
          metadata: ["lease": "\(name)", "to": "\(successor)"])
        handingTo = successor
        return false
      }
      return true
    } catch {
      await lost("its session does not answer: \(String(reflecting: error))")
      return false
    }
  }

  /// Also closes the lease's session: a stopped relay or sweeper keeps no connection open (the
  /// next ``tryAcquire()`` opens one), and PostgresNIO requires a connection closed before it goes.
  public func release() async {
    if held, let connection {
      _ = try? await connection.query("SELECT pg_advisory_unlock(hashtext(\(key)))", logger: logger).collect()
    }
    held = false
    await drop()
  }

  public func close() async {
    held = false
    await drop()
  }

  /// `query`'s answer, or an error after `patience`; the connection is then closed, which
  /// fails the unanswered query (PostgresNIO's queries do not end on cancellation alone).
  private func answered<T: Sendable>(
    on connection: PostgresConnection, _ query: @escaping @Sendable (PostgresConnection) async throws -> T
  ) async throws -> T {
    let patience = self.patience
    return try await withThrowingTaskGroup(of: T?.self) { group in
      group.addTask { try await query(connection) }
      group.addTask {
        try await Task.sleep(for: patience)
        return nil
      }
      let first = try await group.next() ?? nil
      group.cancelAll()
      guard let first else {
        let closing: EventLoopFuture<Void> = connection.close()
        _ = closing
        throw StorageError(
          kind: .unavailable, code: 0, path: configuration.redactedURL,
          message: "lease \(name): no answer from PostgreSQL within \(patience)")
      }
      return first
    }
  }

  /// The advisory locks of this database's sessions, as far as they are leases (``LeaseBalance``).
  private static func advisoryLocks(on connection: PostgresConnection, logger: Logger) async throws
    -> [LeaseBalance.Lock]
  {
    let rows = try await connection.query(
      """
      SELECT a.application_name, l.classid::bigint, l.objid::bigint, l.objsubid::int, l.mode = 'ExclusiveLock'
      FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      """, logger: logger
    ).collect()
    return try rows.compactMap { row in
      let (instance, classid, objid, objsubid, exclusive) = try row.decode((String?, Int64, Int64, Int, Bool).self)
      return LeaseBalance.Lock(
        instance: instance ?? "", classid: classid, objid: objid, objsubid: objsubid, exclusive: exclusive)
    }
  }

  private func lost(_ why: String) async {
    logger.warning("lease lost: another instance may take it over", metadata: ["lease": "\(name)", "why": "\(why)"])
    held = false
    await drop()
  }

  private func drop() async {
    handingTo = nil
    if let connection { try? await connection.close() }
    connection = nil
  }

  private func session() async throws -> PostgresConnection {
    if let connection, !connection.isClosed { return connection }
    var options = PostgresConnection.Configuration.Options()
    options.connectTimeout = .milliseconds(Int64(configuration.connectTimeout.timeInterval * 1_000))
    // The server notices a silent peer after ~5 + 3 × 2 s and ends the session, freeing the lock.
    options.additionalStartupParameters = [
      ("application_name", configuration.applicationName), ("tcp_keepalives_idle", "5"),
      ("tcp_keepalives_interval", "2"), ("tcp_keepalives_count", "3"),
    ]
    var settings = try PostgresEngine.endpoint(configuration)
    settings.options = options
    let opened = try await PostgresConnection.connect(
      on: MultiThreadedEventLoopGroup.singleton.next(), configuration: settings, id: 0, logger: logger)
    connection = opened
    // Shows the holder that this instance could take the lease (``LeaseBalance``); the server
    // drops it with the session. Shared: every candidate's is granted at once.
    let (key, tag, logger) = (self.key, LeaseBalance.candidateTag, self.logger)
    hash = try await answered(on: opened) { connection in
      let rows = try await connection.query(
        "SELECT hashtext(\(key)), pg_try_advisory_lock_shared(hashtext(\(key)), \(tag))", logger: logger
      ).collect()
      guard let row = rows.first else { return Int32?.none }
      let (hash, _) = try row.decode((Int32, Bool).self)
      return hash
    }
    return opened
  }
}
