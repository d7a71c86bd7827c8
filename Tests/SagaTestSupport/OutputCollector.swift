import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Everything a child process wrote to one pipe, collected by a thread of its own so the
/// child never blocks on a full pipe. Owns `descriptor` and closes it at end of file.
public final class OutputCollector: Sendable {
  private let buffer = Mutex(Data())
  private let finished = Mutex(false)

  public init(_ descriptor: Int32) {
    Thread.detachNewThread { [self] in
      var chunk = [UInt8](repeating: 0, count: 65_536)
      while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR { continue }
        if count <= 0 { break }
        buffer.withLock { $0.append(contentsOf: chunk[..<count]) }
      }
      close(descriptor)
      finished.withLock { $0 = true }
    }
  }

  public var text: String { buffer.withLock { String(decoding: $0, as: UTF8.self) } }
  /// What was written, byte for byte (`text` turns bytes that are not UTF-8 into U+FFFD).
  public var bytes: [UInt8] { buffer.withLock { Array($0) } }
  public var lines: [String] {
    text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
  }
  public var isFinished: Bool { finished.withLock { $0 } }
}
