import AdminProtocol
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The client's reading against a scripted server on a Unix socket: replies that arrive cut
/// in the middle of a line, several in one read (a pipelined batch), and one larger than a
/// read's buffer.
@Suite("AdminClient reading", .timeLimit(.minutes(1)))
struct AdminClientTests {
  @Test("replies cut mid-line, several per read and one larger than a read come back whole and in order")
  func replies() throws {
    let server = try ScriptedServer()
    defer { server.close() }
    let rows = (0..<3_000).map { "1000-row \($0)\n" }.joined()
    // The banner and the start of the first reply in one write: the client's first read
    // takes both and must keep "0000 o" for later. The rest comes once it asks.
    server.script = [
      "0001 hello level=read\n0000 o",
      "ne\n1000-row a\n0000 two\n0000 three\n",
      rows + "0000 end\n",
    ]
    server.start()
    let client = try AdminClient(socketPath: server.path, timeout: .seconds(10))
    #expect(client.banner.text == "hello level=read")
    try client.write(Array("go\n".utf8))
    #expect(try client.readReply().text == "one")
    let second = try client.readReply()
    #expect(second.lines.map(\.text) == ["row a", "two"])
    // Already in the client's buffer: no read needed.
    #expect(try client.readReply().text == "three")
    try client.write(Array("go\n".utf8))
    let large = try client.readReply()
    #expect(large.lines.count == 3_001)
    #expect(large.lines.first?.text == "row 0" && large.lines.dropLast().last?.text == "row 2999")
    #expect(large.text == "end")
    client.close()
    #expect(server.finish() == nil)
  }
}

/// Accepts one connection and writes `script[0]` at once, then each further part after
/// reading one line from the client: the client decides when the next bytes exist.
private final class ScriptedServer: @unchecked Sendable {
  let path: String
  var script: [String] = []
  private let listener: Int32
  private let done = DispatchSemaphore(value: 0)
  private var failure: String?

  init() throws {
    path = "/tmp/sagad-client-\(UUID().uuidString.prefix(8)).sock"
    listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      let bytes = Array(path.utf8)
      raw.copyBytes(from: bytes)
      raw[bytes.count] = 0
    }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard listener >= 0, bound == 0, listen(listener, 1) == 0 else {
      throw POSIXError(.EADDRINUSE)
    }
  }

  func start() {
    let script = self.script
    Thread {
      defer { self.done.signal() }
      let connection = accept(self.listener, nil, nil)
      guard connection >= 0 else { return self.fail("accept failed") }
      defer { _ = Glibc.close(connection) }
      for (index, part) in script.enumerated() {
        if index > 0 {
          guard self.readLine(connection) else { return self.fail("the client closed before part \(index)") }
        }
        let bytes = Array(part.utf8)
        var offset = 0
        while offset < bytes.count {
          let written = bytes[offset...].withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, 0) }
          guard written > 0 else { return self.fail("send failed") }
          offset += written
        }
      }
    }.start()
  }

  /// Waits for the serving thread; its failure, if any.
  func finish() -> String? {
    done.wait()
    return failure
  }

  func close() {
    _ = Glibc.close(listener)
    unlink(path)
  }

  private func fail(_ message: String) { failure = message }

  private func readLine(_ connection: Int32) -> Bool {
    var byte: UInt8 = 0
    while read(connection, &byte, 1) == 1 {
      if byte == UInt8(ascii: "\n") { return true }
    }
    return false
  }
}
