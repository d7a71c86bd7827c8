import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The HTTP endpoint of `metrics.listen` (Docs/metrics.md): `GET /metrics` in the Prometheus
/// text format 0.0.4, `GET /healthz` (200 while the process serves), `GET /readyz` (200
/// when every supervised task runs, else 503). Keep-alive connections, one task each; a
/// scrape runs its few database reads on GRDB's pool, never on the event loop.
///
/// It is unauthenticated and may be bound beyond loopback, so nobody who can connect may
/// starve the process (Docs/operations.md, "Security"): at most `maxConnections` at once (the
/// rest are closed at accept, and fewer when the descriptor limit is low, keeping
/// `reservedDescriptors` for the admin socket and Kafka); a request head must be complete
/// within `requestTimeout` and trickled bytes do not extend it; an idle keep-alive connection
/// is closed after `idleTimeout`; bodies are not read beyond `maximumBodyBytes`.
final class MetricsServer: Service, Sendable {
  typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

  /// What `/readyz` reports: ready or not, and a line saying why.
  struct Readiness: Sendable {
    var ready: Bool
    var detail: String
  }

  static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

  let settings: MetricsSettings
  /// Where the bound `host:port` is written once listening (for port 0); nil writes nothing.
  let addressFile: String?
  private let scrape: @Sendable () async -> [UInt8]
  private let readiness: @Sendable () -> Readiness
  private let logger: Logger
  private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])
  /// Connections admitted and not yet ended: counted when accepted, on the event loop,
  /// before anything is allocated for them.
  private let admitted = Mutex(0)
  private let bound = Mutex<String?>(nil)
  /// Connections closed at accept because the cap was reached, and when that was last logged.
  private let refused = Mutex<(count: Int, lastLog: ContinuousClock.Instant?)>((0, nil))

  init(
    settings: MetricsSettings, addressFile: String?, scrape: @escaping @Sendable () async -> [UInt8],
    readiness: @escaping @Sendable () -> Readiness, logger: Logger
  ) {
    self.settings = settings
    self.addressFile = addressFile
    self.scrape = scrape
    self.readiness = readiness
    self.logger = logger
  }

  /// `host:port` once listening.
  var address: String? { bound.withLock { $0 } }

  /// Connections refused at accept so far (the cap was reached).
  var refusedConnections: Int { refused.withLock { $0.count } }

  /// `maxConnections`, lowered so that the descriptors in use plus the reserve stay under
  /// the soft `RLIMIT_NOFILE`.
  static func connectionCap(configured: Int) -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else {
      return configured
    }
    let inUse = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
    let free = Int(limit.rlim_cur) - inUse - MetricsSettings.reservedDescriptors
    return max(1, min(configured, free))
  }

  func run() async throws {
    let server: NIOAsyncChannel<Connection, Never>
    let cap = Self.connectionCap(configured: settings.maxConnections)
    do {
      server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.backlog, value: 64)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .bind(host: settings.host, port: settings.port) { channel in
          channel.eventLoop.makeCompletedFuture {
            // Over the cap: refused here, so the connection never gets a pipeline or a task,
            // and NIO closes it when the initializer fails.
            guard self.admit(cap: cap) else {
              // A failed initializer alone leaves the socket open (seen: CLOSE_WAIT until the
              // descriptor limit), so close it here.
              channel.close(promise: nil)
              throw MetricsServerError("connection limit reached")
            }
            do {
              try channel.pipeline.syncOperations.configureHTTPServerPipeline()
              return try Connection(wrappingChannelSynchronously: channel)
            } catch {
              self.admitted.withLock { $0 -= 1 }
              throw error
            }
          }
        }
    } catch {
      throw MetricsServerError("cannot listen on metrics.listen \(settings.host):\(settings.port): \(error)")
    }
    let port = server.channel.localAddress?.port ?? settings.port
    let address = settings.host.contains(":") ? "[\(settings.host)]:\(port)" : "\(settings.host):\(port)"
    bound.withLock { $0 = address }
    if let addressFile {
      do {
        try Data((address + "\n").utf8).write(to: URL(fileURLWithPath: addressFile), options: .atomic)
      } catch {
        logger.warning(
          "metrics: cannot write the address file", metadata: ["path": "\(addressFile)", "error": "\(error)"])
      }
    }
    logger.info(
      "metrics endpoint listening",
      metadata: [
        "address": "\(address)", "url": "http://\(address)/metrics", "addressFile": "\(addressFile ?? "-")",
        "maxConnections": "\(cap)",
      ])
    try await withGracefulShutdownHandler {
      try await server.executeThenClose { inbound in
        try await withThrowingDiscardingTaskGroup { group in
          for try await connection in inbound {
            group.addTask { await self.serve(connection) }
          }
        }
      }
    } onGracefulShutdown: {
      // Stopped last (it is first in the service group): scrapes work while the node drains.
      server.channel.close(promise: nil)
      for channel in self.connections.withLock({ Array($0.values) }) { channel.close(promise: nil) }
    }
    if let addressFile { unlink(addressFile) }
  }

  /// Counts a new connection in, or refuses it when `cap` are open; a refusal is logged at
  /// most once a minute.
  private func admit(cap: Int) -> Bool {
    let admitted = self.admitted.withLock { count -> Bool in
      guard count < cap else { return false }
      count += 1
      return true
    }
    if admitted { return true }
    let now = ContinuousClock.now
    let log = refused.withLock { state -> Int? in
      state.count += 1
      guard state.lastLog.map({ now - $0 >= .seconds(60) }) ?? true else { return nil }
      state.lastLog = now
      return state.count
    }
    if let log {
      logger.warning(
        "metrics: connection limit reached, closing new connections",
        metadata: ["maxConnections": "\(cap)", "refusedSoFar": "\(log)"])
    }
    return false
  }

  private func serve(_ connection: Connection) async {
    let channel = connection.channel
    let id = ObjectIdentifier(channel)
    connections.withLock { $0[id] = channel }
    defer {
      connections.withLock { $0[id] = nil }
      admitted.withLock { $0 -= 1 }
    }
    // The deadline for the next complete request head: from the opening, then from each
    // response (the keep-alive idle time). Bytes that arrive meanwhile do not move it.
    let deadline = Deadline(channel: channel)
    deadline.arm(settings.requestTimeout)
    do {
      try await connection.executeThenClose { inbound, outbound in
        var head: HTTPRequestHead?
        var bodyBytes = 0
        for try await part in inbound {
          switch part {
          case .head(let request):
            head = request
            bodyBytes = 0
          case .body(let chunk):
            bodyBytes += chunk.readableBytes
            guard bodyBytes <= MetricsSettings.maximumBodyBytes else { return }
            continue
          case .end:
            deadline.disarm()
            guard let request = head else { continue }
            head = nil
            let (status, type, body) = await respond(to: request)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: type)
            headers.add(name: "Content-Length", value: String(body.count))
            if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
            try await outbound.write(
              .head(HTTPResponseHead(version: request.version, status: status, headers: headers)))
            if request.method != .HEAD { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            try await outbound.write(.end(nil))
            guard request.isKeepAlive else { return }
            deadline.arm(settings.idleTimeout)
          }
        }
      }
    } catch {
      logger.debug("metrics: connection ended", metadata: ["error": "\(error)"])
    }
  }

  private func respond(to request: HTTPRequestHead) async -> (HTTPResponseStatus, String, [UInt8]) {
    let text = "text/plain; charset=utf-8"
    guard request.method == .GET || request.method == .HEAD else {
      return (.methodNotAllowed, text, Array("only GET and HEAD\n".utf8))
    }
    let path = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    switch path {
    case "/metrics":
      return (.ok, Self.metricsContentType, await scrape())
    case "/healthz":
      return (.ok, text, Array("ok\n".utf8))
    case "/readyz":
      let readiness = readiness()
      return (readiness.ready ? .ok : .serviceUnavailable, text, Array((readiness.detail + "\n").utf8))
    default:
      return (.notFound, text, Array("not found: try /metrics, /healthz or /readyz\n".utf8))
    }
  }
}

/// Closes a channel when a timer runs out, unless disarmed first: the metrics server's
/// request and keep-alive deadlines. The timer runs on the channel's event loop.
private final class Deadline: Sendable {
  private let channel: any Channel
  private let pending = Mutex<Scheduled<Void>?>(nil)

  init(channel: any Channel) {
    self.channel = channel
  }

  func arm(_ timeout: Duration) {
    let channel = self.channel
    let (seconds, attoseconds) = timeout.components
    let delay = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    let task = channel.eventLoop.scheduleTask(in: delay) { channel.close(promise: nil) }
    pending.withLock { previous in
      previous?.cancel()
      previous = task
    }
  }

  func disarm() {
    pending.withLock { previous in
      previous?.cancel()
      previous = nil
    }
  }

  deinit { pending.withLock { $0?.cancel() } }
}
