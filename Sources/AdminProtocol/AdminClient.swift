#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why a client could not get a reply. `rejected` carries sagad's own answer (a refused
/// peer, too many connections); the others are local trouble with the socket.
public struct AdminClientError: Error, Sendable, CustomStringConvertible {
  public enum Kind: Sendable, Hashable {
    /// No socket file at the path: sagad is not running, or listens elsewhere.
    case noSocket
    /// The file exists but nobody accepts on it (a stale socket) or access was denied.
    case connectFailed
    /// sagad answered the connection with an error instead of a banner.
    case rejected
    /// No complete reply within the timeout.
    case timeout
    /// sagad closed the connection before the reply was complete.
    case closed
    /// Something that is not the admin protocol arrived.
    case malformed
    /// Any other system call failure.
    case io
  }

  public let kind: Kind
  public let message: String
  /// For `rejected`: the reply sagad sent.
  public let reply: AdminReply?

  init(_ kind: Kind, _ message: String, reply: AdminReply? = nil) {
    self.kind = kind
    self.message = message
    self.reply = reply
  }

  public var description: String { message }
}

/// A blocking client for sagad's admin socket over plain POSIX calls, so `sagactl` needs
/// no event loop: connect, read the banner, then one request line and its reply at a time.
public final class AdminClient {
  /// The banner line (`0001 sagad <version> proto=1 level=<level>`).
  public private(set) var banner = ReplyLine(.banner, "")
  private var descriptor: Int32
  /// Bytes read and not yet parsed start at `parsed`: replies are cut off the front by
  /// moving the index, not the bytes (a pipelined read holds many replies).
  private var received: [UInt8] = []
  private var parsed = 0
  /// Where `read(2)` writes, allocated once.
  private var chunk = [UInt8](repeating: 0, count: 16_384)
  private var reader = ReplyReader()
  private let socketPath: String

  /// Connects to `socketPath` and reads the banner. `timeout` bounds every wait for sagad.
  public init(socketPath: String, timeout: Duration = .seconds(30)) throws(AdminClientError) {
    self.socketPath = socketPath
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let pathBytes = Array(socketPath.utf8)
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    guard !pathBytes.isEmpty, pathBytes.count < capacity else {
      throw AdminClientError(.io, "socket path \(socketPath) is empty or longer than \(capacity - 1) bytes")
    }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      raw.copyBytes(from: pathBytes)
      raw[pathBytes.count] = 0
    }
    #if os(Linux)
      descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    #else
      descriptor = socket(AF_UNIX, SOCK_STREAM, 0)
    #endif
    guard descriptor >= 0 else { throw AdminClientError(.io, "socket(): \(Self.errnoText())") }
    var seconds = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
    if seconds.tv_sec == 0 { seconds.tv_usec = 100_000 }
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
    #if canImport(Darwin)
      var one: Int32 = 1
      setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
    #endif
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard connected == 0 else {
      let code = errno
      close()
      switch code {
      case ENOENT:
        throw AdminClientError(.noSocket, "no sagad socket at \(socketPath) (is sagad running? see --socket)")
      case ECONNREFUSED:
        throw AdminClientError(.connectFailed, "nothing accepts connections on \(socketPath) (is sagad running?)")
      case EACCES, EPERM:
        throw AdminClientError(.connectFailed, "no permission to connect to \(socketPath)")
      default:
        throw AdminClientError(.connectFailed, "cannot connect to \(socketPath): \(Self.errnoText(code))")
      }
    }
    let first = try readReply()
    guard first.code == .banner else {
      close()
      throw AdminClientError(.rejected, "sagad refused the connection: \(first.text) (\(first.code))", reply: first)
    }
    banner = first.lines[0]
  }

  deinit { close() }

  /// The permission level the banner announced.
  public var level: PermissionLevel? {
    banner.text.split(separator: " ").first { $0.hasPrefix("level=") }.flatMap {
      PermissionLevel(name: String($0.dropFirst(6)))
    }
  }

  /// Sends `request` and waits for its reply.
  public func send(_ request: AdminRequest) throws(AdminClientError) -> AdminReply {
    try send(line: request.line)
  }

  /// Sends one line (a newline is added) and waits for its reply.
  public func send(line: String) throws(AdminClientError) -> AdminReply {
    try write(Array(line.utf8) + [UInt8(ascii: "\n")])
    return try readReply()
  }

  /// Writes raw bytes: for tests of what the server does with malformed input.
  public func write(_ bytes: [UInt8]) throws(AdminClientError) {
    var offset = 0
    while offset < bytes.count {
      let written = bytes[offset...].withUnsafeBytes { raw in
        #if os(Linux)
          Glibc.send(descriptor, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))
        #else
          Darwin.send(descriptor, raw.baseAddress, raw.count, 0)
        #endif
      }
      if written < 0 {
        if errno == EINTR { continue }
        if errno == EAGAIN || errno == EWOULDBLOCK { throw AdminClientError(.timeout, "sagad does not read") }
        throw AdminClientError(.closed, "sagad closed the connection (\(Self.errnoText()))")
      }
      offset += written
    }
  }

  /// Reads the next complete reply.
  /// - Throws: `closed` when sagad closes the connection first, `timeout`, `malformed`.
  public func readReply() throws(AdminClientError) -> AdminReply {
    while true {
      while let newline = received[parsed...].firstIndex(of: UInt8(ascii: "\n")) {
        let line = String(decoding: received[parsed..<newline], as: UTF8.self)
        parsed = newline + 1
        do {
          if let reply = try reader.feed(line[...]) { return reply }
        } catch {
          throw AdminClientError(.malformed, "\(error) (is \(socketPath) sagad's admin socket?)")
        }
      }
      // Everything before `parsed` is done with: drop it before appending.
      received.removeSubrange(..<parsed)
      parsed = 0
      let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count > 0 {
        received += chunk[..<count]
      } else if count == 0 {
        throw AdminClientError(.closed, "sagad closed the connection before the reply was complete")
      } else if errno == EINTR {
        continue
      } else if errno == EAGAIN || errno == EWOULDBLOCK {
        throw AdminClientError(.timeout, "no reply from sagad within the timeout")
      } else if errno == ECONNRESET {
        // What Linux reports instead of EOF when sagad closed with our bytes unread.
        throw AdminClientError(.closed, "sagad closed the connection before the reply was complete")
      } else {
        throw AdminClientError(.io, "reading from \(socketPath): \(Self.errnoText())")
      }
    }
  }

  public func close() {
    if descriptor >= 0 {
      _ = closeDescriptor(descriptor)
      descriptor = -1
    }
  }

  private static func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
}

/// `close(2)`, out of reach of the method of the same name.
private func closeDescriptor(_ descriptor: Int32) -> Int32 {
  #if canImport(Glibc)
    Glibc.close(descriptor)
  #elseif canImport(Musl)
    Musl.close(descriptor)
  #else
    Darwin.close(descriptor)
  #endif
}
