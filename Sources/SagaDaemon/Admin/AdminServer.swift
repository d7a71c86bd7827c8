import AdminProtocol
import Foundation
import Logging
import NIOCore
import NIOPosix
import SagaCore
import ServiceLifecycle
import Synchronization

/// The admin server (Docs/admin-protocol.md): a Unix socket, one task per connection, each reading
/// request lines (several in flight when pipelined) and writing coded replies in request order.
/// Connections share nothing but the counter of open connections, so a slow or hostile client can
/// only stall itself.
final class AdminServer: Service, Sendable {
  /// What the accept loop receives: the wrapped channel and who connected.
  struct Connection: Sendable {
    let channel: NIOAsyncChannel<[AdminFrame], ByteBuffer>
    let peer: PeerCredentials?
  }

  private struct State {
    /// Open connections, whose uid each has, and how many requests each has in flight.
    var open: [ObjectIdentifier: (channel: any Channel, uid: UInt32?, inFlight: Int)] = [:]
    var shuttingDown = false
    /// Connections turned away, and when that was last logged (at most once a minute).
    var turnedAway = 0
    var lastTurnAwayLog: ContinuousClock.Instant?
  }

  /// Why a connection was not admitted.
  private enum Refusal {
    case full
    case perUser
    case reserved
  }

  let settings: AdminSettings
  let version: String
  private let commands: AdminCommands
  private let policy: AdminAccessPolicy
  /// What the connections' idle timeouts pass on.
  private let clock: SagaClock
  private let logger: Logger
  private let state = Mutex(State())

  init(
    settings: AdminSettings, commands: AdminCommands, policy: AdminAccessPolicy? = nil, version: String,
    clock: SagaClock = .continuous, logger: Logger
  ) {
    self.settings = settings
    self.clock = clock
    self.commands = commands
    self.policy = policy ?? AdminAccessPolicy(settings: settings)
    self.version = version
    self.logger = logger
  }

  func run() async throws {
    let path = settings.socketPath
    try removeStaleSocket(at: path)
    let server = try await listen(on: path)
    // Group members connect through the mode; everyone else is stopped by it before the
    // credential check even runs.
    if chmod(path, 0o660) != 0 {
      logger.warning("admin: cannot set mode 0660 on the socket", metadata: ["path": "\(path)", "errno": "\(errno)"])
    }
    logger.info(
      "admin socket listening",
      metadata: [
        "path": "\(path)", "maxConnections": "\(settings.maxConnections)",
        "idleTimeout": "\(settings.idleTimeout.components.seconds)s",
      ])
    defer { unlink(path) }
    try await withGracefulShutdownHandler {
      try await server.executeThenClose { inbound in
        try await withThrowingDiscardingTaskGroup { group in
          for try await connection in inbound {
            if let refusal = admit(connection.channel.channel, peer: connection.peer) {
              group.addTask { await self.turnAway(connection, refusal) }
            } else {
              group.addTask { await self.serve(connection) }
            }
          }
        }
      }
    } onGracefulShutdown: {
      self.shutDown(listener: server.channel)
    }
  }

  /// Binds the socket; every accepted connection gets the idle timer, the line decoder
  /// and its peer's credentials before the accept loop sees it.
  private func listen(on path: String) async throws -> NIOAsyncChannel<Connection, Never> {
    let (idle, line, session, clock) = (settings.idleTimeout, settings.requestTimeout, settings.maxSession, self.clock)
    do {
      return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.backlog, value: 128)
        // `echo status | socat - UNIX-CONNECT:…` half-closes after the line; the reply
        // must still be written.
        .childChannelOption(.allowRemoteHalfClosure, value: true)
        .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false) { channel in
          channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandlers(
              AdminIdleCloser(timeout: idle, requestTimeout: line, maxSession: session, clock: clock),
              ByteToMessageHandler(AdminLineDecoder()))
            return try NIOAsyncChannel<[AdminFrame], ByteBuffer>(wrappingChannelSynchronously: channel)
          }.flatMap { wrapped in
            PeerCredentials.of(channel).map { Connection(channel: wrapped, peer: $0) }
          }
        }
    } catch {
      throw AdminServerError("cannot listen on admin.socket \(path): \(error)")
    }
  }

  // MARK: Connections

  private func serve(_ connection: Connection) async {
    let channel = connection.channel.channel
    defer { release(channel) }
    let peer = connection.peer.map(\.description) ?? "unknown peer"
    do {
      try await connection.channel.executeThenClose { inbound, outbound in
        let level: PermissionLevel
        // Here rather than on the event loop: group lookups may ask NSS, which can be slow,
        // and doing it per connection means a changed group applies to the next one.
        switch policy.level(for: connection.peer) {
        case .success(let granted):
          level = granted
        case .failure(let denial):
          logger.warning("admin: connection refused", metadata: ["peer": "\(peer)", "reason": "\(denial.message)"])
          try await outbound.write(ByteBuffer(string: denial.reply.encoded()))
          return
        }
        let banner = AdminReply.final(.banner, AdminProtocol.bannerText(version: version, level: level))
        try await outbound.write(ByteBuffer(string: banner.encoded()))
        try await pipeline(inbound, outbound, channel: channel, peer: connection.peer, level: level)
      }
    } catch {
      // A peer that goes away mid-reply is routine, not an operator's problem.
      logger.debug("admin: connection ended", metadata: ["peer": "\(peer)", "error": "\(error)"])
    }
  }

  /// Reads request lines and writes their replies in request order, several in flight at once
  /// (Docs/admin-protocol.md, "Pipelining"): consecutive permitted `pay` requests run together,
  /// which a group commit then takes as one; any other request starts once everything before
  /// it has finished, and the next request waits for it. Past ``pipelineDepth`` unanswered
  /// requests the server reads nothing more until a reply is written, so a client that sends
  /// without reading holds a bounded amount of its connection's memory.
  ///
  /// A request that arrives alone, with nothing of the connection in flight, is answered by
  /// this task itself: a task per request and the writer's turn cost two thread wake-ups each,
  /// a measurable share of a paced `pay` (Docs/benchmarks.md). Lines that come later are read
  /// once it is answered.
  private func pipeline(
    _ inbound: NIOAsyncChannelInboundStream<[AdminFrame]>, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
    channel: any Channel, peer: PeerCredentials?, level: PermissionLevel
  ) async throws {
    let (queued, queue) = AsyncStream.makeStream(of: Task<AdminReply, Never>.self)
    let (answered, answer) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask {
        defer { answer.finish() }
        for await request in queued {
          let reply = await request.value
          try await outbound.write(ByteBuffer(string: reply.encoded()))
          let closing = self.end(channel)
          answer.yield()
          // Shutting down: the connection ends once every request it started is answered.
          if closing { channel.close(promise: nil) }
        }
      }
      defer { queue.finish() }
      var waitForAnswer = answered.makeAsyncIterator()
      // Started and maybe unfinished, oldest first: what a request that may not overlap waits for.
      var started: [Task<AdminReply, Never>] = []
      var lastExclusive = false
      for try await frames in inbound {
        for frame in frames {
          guard case .line(let bytes) = frame else {
            let error = AdminProtocolError(
              .lineTooLong, "request line longer than \(AdminProtocol.maximumLineLength) bytes; closing the connection")
            begin(channel)
            queue.yield(Task { error.reply })
            return
          }
          guard let unanswered = begin(channel) else {
            queue.yield(Task { AdminReply.final(.shuttingDown, "sagad is shutting down") })
            return
          }
          let prepared = prepare(bytes, level: level)
          if unanswered == 1, frames.count == 1 {
            // A lone request (nothing in flight, no other line in this read): answered here,
            // sparing a task and the writer's turn; most clients send one request at a time.
            // Once it is answered nothing is in flight, so nothing later has to wait for it.
            started.removeAll()
            lastExclusive = false
            let reply = await execute(prepared, peer: peer, level: level)
            try await outbound.write(ByteBuffer(string: reply.encoded()))
            if self.end(channel) {
              channel.close(promise: nil)
              return
            }
            continue
          }
          // This request counted in: wait while more than the depth are unanswered.
          if unanswered > Self.pipelineDepth {
            while inFlight(channel) > Self.pipelineDepth {
              guard await waitForAnswer.next() != nil else { return }
            }
          }
          let overlaps = prepared.overlaps
          if !overlaps || lastExclusive {
            for request in started { _ = await request.value }
            started.removeAll()
          }
          let request = Task { await self.execute(prepared, peer: peer, level: level) }
          // Beyond the depth every earlier request has been answered: no need to keep it.
          if started.count >= Self.pipelineDepth { started.removeFirst() }
          started.append(request)
          lastExclusive = !overlaps
          queue.yield(request)
        }
      }
    }
  }

  /// Requests of one connection in flight at most (the protocol's limit).
  static let pipelineDepth = AdminProtocol.pipelineDepth

  /// A received line, parsed.
  enum Prepared: Sendable {
    /// Not a request (bad encoding, quoting, an unknown command): its coded error.
    case unreadable(AdminReply)
    /// A request with its text (for the audit line), and the refusal when the connection's
    /// level is below the command's.
    case request(AdminRequest, text: String, denied: AdminReply?)

    /// Whether it may run beside the requests before it: a permitted `pay`.
    var overlaps: Bool {
      if case .request(let request, _, nil) = self { return request.command == .pay }
      return false
    }
  }

  func prepare(_ bytes: [UInt8], level: PermissionLevel) -> Prepared {
    let request: AdminRequest
    let text: String
    do {
      text = try RequestLine.decode(bytes)
      request = try AdminRequest.parse(text)
    } catch {
      return .unreadable(error.reply)
    }
    guard level >= request.command.level else {
      let denied = AdminReply.final(
        .permissionDenied,
        "permission denied: '\(request.command)' needs level \(request.command.level), this connection has \(level)")
      return .request(request, text: text, denied: denied)
    }
    return .request(request, text: text, denied: nil)
  }

  private func turnAway(_ connection: Connection, _ refusal: Refusal) async {
    let why =
      switch refusal {
      case .full: "too many admin connections (admin.max_connections = \(settings.maxConnections))"
      case .perUser:
        "too many admin connections of this user (admin.max_connections_per_user = \(settings.maxConnectionsPerUser))"
      case .reserved:
        "the remaining admin connections are kept for root and sagad's user (admin.reserved_connections = "
          + "\(settings.reservedConnections))"
      }
    try? await connection.channel.executeThenClose { _, outbound in
      try await outbound.write(ByteBuffer(string: AdminReply.final(.tooManyConnections, why).encoded()))
    }
    // A client that reconnects in a loop must not flood the log: one line a minute, with a count.
    let now = ContinuousClock.now
    let count = state.withLock { state -> Int? in
      state.turnedAway += 1
      guard state.lastTurnAwayLog.map({ now - $0 >= .seconds(60) }) ?? true else { return nil }
      state.lastTurnAwayLog = now
      return state.turnedAway
    }
    if let count {
      logger.warning(
        "admin: connection turned away",
        metadata: [
          "peer": "\(connection.peer.map(\.description) ?? "unknown peer")", "reason": "\(why)",
          "turnedAwaySoFar": "\(count)",
        ])
    }
  }

  /// One request line → its reply, with the level check and the audit line.
  func handle(_ bytes: [UInt8], peer: PeerCredentials?, level: PermissionLevel) async -> AdminReply {
    await execute(prepare(bytes, level: level), peer: peer, level: level)
  }

  func execute(_ prepared: Prepared, peer: PeerCredentials?, level: PermissionLevel) async -> AdminReply {
    let (request, text, denied): (AdminRequest, String, AdminReply?)
    switch prepared {
    case .unreadable(let reply): return reply
    case .request(let parsed, let line, let refusal): (request, text, denied) = (parsed, line, refusal)
    }
    let reply = if let denied { denied } else { await commands.execute(request) }
    if request.command.isMutating {
      // The command is the client's text: quoted and escaped, and last on the line (the message
      // follows the metadata), so that nothing in it can pass for the real uid or reply.
      logger.notice(
        "admin audit: command \(Self.quoted(text))",
        metadata: [
          "uid": "\(peer.map { String($0.uid) } ?? "?")", "pid": "\(peer.map { String($0.pid) } ?? "?")",
          "level": "\(level)", "reply": "\(reply.code)",
        ])
    }
    return reply
  }

  /// `text` in double quotes with quotes, backslashes and control characters escaped, at most
  /// `AdminProtocol.maximumLineLength` characters.
  static func quoted(_ text: String) -> String {
    String(text.prefix(AdminProtocol.maximumLineLength)).debugDescription
  }

  // MARK: Bookkeeping

  /// Counts `channel` in by its peer's uid (read at accept, before it counts), or says why not:
  /// the limit is reached, the uid holds its share, or only reserved slots are left and the peer
  /// is neither root nor sagad's own user. Nil when admitted.
  private func admit(_ channel: any Channel, peer: PeerCredentials?) -> Refusal? {
    let uid = peer?.uid
    let privileged = uid == 0 || uid == getuid()
    return state.withLock { state -> Refusal? in
      guard !state.shuttingDown, state.open.count < settings.maxConnections else { return .full }
      if !privileged {
        guard state.open.count < settings.maxConnections - settings.reservedConnections else { return .reserved }
        let held = state.open.values.filter { $0.uid == uid }.count
        guard held < settings.maxConnectionsPerUser else { return .perUser }
      }
      state.open[ObjectIdentifier(channel)] = (channel, uid, 0)
      return nil
    }
  }

  private func release(_ channel: any Channel) {
    _ = state.withLock { $0.open.removeValue(forKey: ObjectIdentifier(channel)) }
  }

  /// Counts a request of `channel` in and returns how many it has unanswered now; nil once
  /// shutdown has begun (the request is then answered that sagad is shutting down, and the
  /// connection ends).
  @discardableResult
  private func begin(_ channel: any Channel) -> Int? {
    state.withLock { state in
      let id = ObjectIdentifier(channel)
      state.open[id]?.inFlight += 1
      return state.shuttingDown ? nil : state.open[id]?.inFlight ?? 0
    }
  }

  /// The requests of `channel` counted in and not yet answered.
  private func inFlight(_ channel: any Channel) -> Int {
    state.withLock { $0.open[ObjectIdentifier(channel)]?.inFlight ?? 0 }
  }

  /// Counts a request of `channel` out, its reply written; true when shutdown has begun and
  /// nothing of the connection is in flight any more, so that it can close.
  private func end(_ channel: any Channel) -> Bool {
    state.withLock { state in
      let id = ObjectIdentifier(channel)
      state.open[id]?.inFlight -= 1
      return state.shuttingDown && (state.open[id]?.inFlight ?? 0) <= 0
    }
  }

  /// Stops accepting and closes idle connections; a connection in the middle of a command
  /// writes its reply first, so a `pay` that committed is never left unanswered.
  private func shutDown(listener: any Channel) {
    let idle = state.withLock { state in
      state.shuttingDown = true
      return state.open.values.filter { $0.inFlight == 0 }.map(\.channel)
    }
    listener.close(promise: nil)
    for channel in idle { channel.close(promise: nil) }
  }

  /// Removes a socket file left by a sagad that died, after checking that nobody answers
  /// on it: deleting a live socket would silently cut off the other daemon.
  private func removeStaleSocket(at path: String) throws {
    // Outside systemd nobody made /run/sagad. 0755: operators in other groups must be able
    // to reach the socket; the socket's own mode and the credential check do the gating.
    let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
    do {
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
    } catch {
      throw AdminServerError(
        "cannot create \(directory) for admin.socket \(path) (\(error.localizedDescription)); set admin.socket")
    }
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    guard info.st_mode & S_IFMT == S_IFSOCK else {
      throw AdminServerError("admin.socket \(path) exists and is not a socket; not touching it")
    }
    do {
      _ = try AdminClient(socketPath: path, timeout: .seconds(1))
      throw AdminServerError("another process answers on admin.socket \(path); is a second sagad running?")
    } catch let error as AdminClientError where error.kind == .connectFailed {
      logger.info("admin: removing stale socket", metadata: ["path": "\(path)"])
      unlink(path)
    } catch let error as AdminClientError {
      throw AdminServerError("admin.socket \(path) is in use (\(error.message))")
    }
  }
}

struct AdminServerError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
