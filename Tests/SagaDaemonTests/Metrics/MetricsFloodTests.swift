import Foundation
import SagaTestSupport
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// `/metrics` is unauthenticated and may face a network: nobody who can connect may starve
/// sagad of descriptors, lock out the admin socket, or hold a connection by trickling bytes.
@Suite("metrics endpoint under a connection flood", .timeLimit(.minutes(2)))
struct MetricsFloodTests {
  /// A blocking TCP connection to 127.0.0.1:`port`, or nil if refused or timed out.
  private static func connect(port: UInt16) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else {
      close(fd)
      return nil
    }
    return fd
  }

  /// Sends without SIGPIPE: the server may have closed the connection already.
  @discardableResult
  private static func send(_ fd: Int32, _ text: String) -> Bool {
    Array(text.utf8).withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } > 0
  }

  /// Whether the server closed `fd` (a read returns end of file or a reset), polling briefly.
  private static func closedByServer(_ fd: Int32) -> Bool {
    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    guard poll(&entry, 1, 0) > 0 else { return false }
    var byte: UInt8 = 0
    return recv(fd, &byte, 1, Int32(MSG_DONTWAIT)) <= 0
  }

  @Test("600 half-sent requests under a 300-descriptor limit: sagad stays up, admin answers, /metrics again after")
  func halfOpenFlood() async throws {
    let setup = try await ConfiguredDaemon.make()
    defer { setup.cleanUp() }
    let daemon = try await setup.start(
      launcher: ["/usr/bin/prlimit", "--nofile=300:300", "--"], environment: ["SAGAD_METRICS_REQUEST_TIMEOUT": "3s"])
    defer { daemon.killIfRunning() }
    var sockets: [Int32] = []
    defer { for fd in sockets { close(fd) } }
    do {
      let address = try String(contentsOfFile: setup.directory.path + "/metrics-address", encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines)
      let port = try #require(address.split(separator: ":").last.flatMap { UInt16($0) })
      for _ in 0..<600 {
        guard let fd = Self.connect(port: port) else { continue }
        sockets.append(fd)
        Self.send(fd, "GET /metrics HTTP/1.1\r\nHost: flood\r\n")
      }
      #expect(sockets.count > 100, "the flood connected \(sockets.count) times")
      // While they are held: sagad runs and root's admin requests answer.
      let admin = try await connectAdmin(setup.socket, of: daemon)
      let started = ContinuousClock.now
      #expect(try await admin.send("status").code == .ok)
      #expect(ContinuousClock.now - started < .seconds(5), "status took \(ContinuousClock.now - started)")
      #expect(daemon.isRunning)
      // A trickling client does not keep its connection: the request deadline closes it.
      let trickler = try #require(Self.connect(port: port))
      sockets.append(trickler)
      try await eventually("the trickling connection to be closed by sagad", timeout: .seconds(30)) {
        Self.send(trickler, "X")
        return Self.closedByServer(trickler)
      }
      for fd in sockets { close(fd) }
      sockets.removeAll()
      // Once they are gone, scrapes work again.
      let url = try #require(URL(string: "http://\(address)/metrics"))
      try await eventually("/metrics to answer 200 again", timeout: .seconds(30)) {
        guard let (_, response) = try? await URLSession.shared.data(from: url) else { return false }
        return (response as? HTTPURLResponse)?.statusCode == 200
      }
      #expect(daemon.isRunning)
      daemon.signal(SIGTERM)
      #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 0)
    } catch {
      Issue.record("sagad stderr:\n\(daemon.stderr.text.suffix(3000))")
      throw error
    }
  }
}
