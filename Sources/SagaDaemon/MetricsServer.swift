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
  private let bound = Mutex<String?>(nil)

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

  func run() async throws {
    let server: NIOAsyncChannel<Connection, Never>
    do {
      server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.backlog, value: 64)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .bind(host: settings.host, port: settings.port) { channel in
          channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
            return try Connection(wrappingChannelSynchronously: channel)
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
      metadata: ["address": "\(address)", "url": "http://\(address)/metrics", "addressFile": "\(addressFile ?? "-")"])
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

  private func serve(_ connection: Connection) async {
    let channel = connection.channel
    let id = ObjectIdentifier(channel)
    connections.withLock { $0[id] = channel }
    defer { connections.withLock { $0[id] = nil } }
    do {
      try await connection.executeThenClose { inbound, outbound in
        var head: HTTPRequestHead?
        for try await part in inbound {
          switch part {
          case .head(let request): head = request
          case .body: continue
          case .end:
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
