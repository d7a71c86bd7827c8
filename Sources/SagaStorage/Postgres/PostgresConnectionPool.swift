/// A fixed number of PostgreSQL connections for one service, each used by one transaction at a
/// time, all opened at start (`prime`): `acquire` hands out an idle one, opens one while fewer
/// than `size` are open, or waits for a release. A connection the server or the network closed
/// is dropped when it comes back, and the next `acquire` opens a new one, so a restarted server
/// heals the pool by itself.
actor PostgresConnectionPool {
  private let size: Int
  private let connect: @Sendable () async throws -> PostgresSQLConnection
  private var idle: [PostgresSQLConnection] = []
  private var open = 0
  private var waiters: [CheckedContinuation<PostgresSQLConnection, any Error>] = []
  private var closed = false

  init(size: Int, connect: @escaping @Sendable () async throws -> PostgresSQLConnection) {
    self.size = max(1, size)
    self.connect = connect
  }

  func acquire() async throws -> PostgresSQLConnection {
    if closed { throw StorageError(kind: .unavailable, code: 0, path: "", message: "the connection pool is closed") }
    while let connection = idle.popLast() {
      if !connection.isClosed { return connection }
      open -= 1
    }
    if open < size {
      open += 1
      do {
        return try await connect()
      } catch {
        open -= 1
        fill()
        throw error
      }
    }
    return try await withCheckedThrowingContinuation { waiters.append($0) }
  }

  /// Opens the connections not open yet, so that the first burst of work does not wait for
  /// the server to start their sessions (a process each) and the daemon finds a server that
  /// refuses more sessions at start rather than under load. A failure stops it quietly:
  /// `acquire` opens what is missing later, as after a server restart.
  func prime() async {
    while open < size, !closed {
      open += 1
      do {
        release(try await connect())
      } catch {
        open -= 1
        return
      }
    }
  }

  func release(_ connection: PostgresSQLConnection) {
    guard !connection.isClosed, !closed else {
      open -= 1
      if !connection.isClosed { Task { try? await connection.connection.close() } }
      fill()
      return
    }
    if waiters.isEmpty {
      idle.append(connection)
    } else {
      waiters.removeFirst().resume(returning: connection)
    }
  }

  /// Closes the idle connections, fails the waiters; connections in use close when released.
  func close() async {
    closed = true
    for waiter in waiters {
      waiter.resume(throwing: StorageError(kind: .unavailable, code: 0, path: "", message: "the pool closed"))
    }
    waiters = []
    let connections = idle
    idle = []
    open -= connections.count
    for connection in connections { try? await connection.connection.close() }
  }

  /// Opens a connection for each waiter while there is room. Every waiter is answered: with a
  /// connection, or with the error of its own attempt (a server that is down fails them all
  /// quickly, and their callers back off), never left waiting for a release that will not
  /// come because every connection died at once.
  private func fill() {
    while open < size, !closed, !waiters.isEmpty {
      let waiter = waiters.removeFirst()
      open += 1
      Task {
        do {
          waiter.resume(returning: try await connect())
        } catch {
          open -= 1
          waiter.resume(throwing: error)
          fill()
        }
      }
    }
  }
}
