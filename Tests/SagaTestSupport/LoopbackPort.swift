#if canImport(Glibc)
  import Glibc
#endif

/// Loopback TCP ports for servers the tests start.
public enum LoopbackPort {
  /// A port nobody listens on right now: bound to 127.0.0.1:0 and released. Another process may
  /// take it before the caller binds it, so a caller that binds retries on a clash.
  public static func unused() throws -> UInt16 {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw Failure(call: "socket", errno: errno) }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
        bind(descriptor, raw, length) == 0 && getsockname(descriptor, raw, &length) == 0
      }
    }
    guard bound else { throw Failure(call: "bind 127.0.0.1:0", errno: errno) }
    return UInt16(bigEndian: address.sin_port)
  }

  public struct Failure: Error, CustomStringConvertible {
    public let call: String
    public let errno: Int32
    public var description: String { "\(call): \(String(cString: strerror(errno)))" }
  }
}
