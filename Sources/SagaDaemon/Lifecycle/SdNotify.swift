import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// systemd's notification protocol without libsystemd: one `AF_UNIX`/`SOCK_DGRAM`
/// datagram per message to `$NOTIFY_SOCKET` (a leading `@` names the abstract
/// namespace). Without `NOTIFY_SOCKET` every call is a no-op, so sagad runs the same
/// outside systemd (a unit with `Type=notify` and, optionally, `WatchdogSec=`).
struct SdNotify: Sendable {
  /// The socket address, nil when systemd is not listening.
  let path: String?
  /// `WATCHDOG_USEC` when it is meant for this process (`WATCHDOG_PID` unset or ours).
  let watchdogInterval: Duration?

  init(environment: [String: String] = ProcessInfo.processInfo.environment) {
    let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    self.path = path
    let forUs = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
    if path != nil, forUs, let text = environment["WATCHDOG_USEC"], let micros = Int64(text), micros > 0 {
      watchdogInterval = .microseconds(micros)
    } else {
      watchdogInterval = nil
    }
  }

  var isEnabled: Bool { path != nil }

  /// Sends `fields` (`READY=1`, `STATUS=…`) as one datagram; returns false if it could
  /// not be delivered. A failure is never fatal: systemd may simply not be listening.
  @discardableResult
  func send(_ fields: String...) -> Bool {
    guard let path else { return true }
    return Self.send(fields.joined(separator: "\n"), to: path)
  }

  /// A STATUS line: single-line, since each field is one line of the datagram.
  @discardableResult
  func status(_ text: String) -> Bool {
    send("STATUS=" + text.replacingOccurrences(of: "\n", with: " "))
  }

  private static func send(_ message: String, to path: String) -> Bool {
    #if os(Linux)
      let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    #else
      let fd = socket(AF_UNIX, SOCK_DGRAM, 0)
    #endif
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    var bytes = Array(path.utf8)
    let abstract = bytes.first == UInt8(ascii: "@")
    if abstract { bytes[0] = 0 }  // Linux's abstract namespace: a leading NUL, no terminator
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    guard bytes.count < capacity else { return false }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      raw.copyBytes(from: bytes)
    }
    let length = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (abstract ? 0 : 1)
    let payload = Array(message.utf8)
    #if os(Linux)
      let noSignal = Int32(MSG_NOSIGNAL)
    #else
      let noSignal: Int32 = 0
    #endif
    let sent = withUnsafePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
        payload.withUnsafeBytes { buffer in
          sendto(fd, buffer.baseAddress, buffer.count, noSignal, socketAddress, socklen_t(length))
        }
      }
    }
    return sent == payload.count
  }
}
