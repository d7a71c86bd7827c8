import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// systemd's end of sd_notify for tests: a datagram socket bound in a temp dir that
/// collects every message sagad sends to `$NOTIFY_SOCKET`.
final class NotifyListener: Sendable {
  let path: String
  private let descriptor: Int32
  private let messages = Mutex<[String]>([])
  private let closed = Atomic<Bool>(false)

  init(path: String) throws {
    #if os(Linux)
      let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
    #else
      let fd = socket(AF_UNIX, SOCK_DGRAM, 0)
    #endif
    guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes + [0]) }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard bound == 0 else {
      Glibc.close(fd)
      throw TestFailure("bind \(path): errno \(errno)")
    }
    // Wake up regularly so the reader thread notices `close()`.
    var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    self.path = path
    self.descriptor = fd
    Thread.detachNewThread { [self] in
      var buffer = [UInt8](repeating: 0, count: 4096)
      while !closed.load(ordering: .relaxed) {
        let count = recv(descriptor, &buffer, buffer.count, 0)
        if count > 0 {
          let message = String(decoding: buffer[0..<count], as: UTF8.self)
          messages.withLock { $0.append(message) }
        }
      }
      Glibc.close(descriptor)
    }
  }

  /// Every datagram so far, in arrival order.
  var received: [String] { messages.withLock { $0 } }

  /// Every `NAME=value` field of every datagram, in order.
  var fields: [String] { received.flatMap { $0.split(separator: "\n").map(String.init) } }

  func close() { closed.store(true, ordering: .relaxed) }

  deinit { closed.store(true, ordering: .relaxed) }
}
