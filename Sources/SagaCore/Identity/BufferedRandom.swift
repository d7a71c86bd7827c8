import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Random numbers from the kernel's CSPRNG (`/dev/urandom`, what `getrandom` reads too),
/// fetched 4 KiB at a time and handed out from a process-wide buffer.
/// `SystemRandomNumberGenerator` makes one system call per number, and a saga draws several
/// (event ids, trace and span ids): ~0.5 % of sagad's CPU in the call alone. The bytes are
/// the same kernel randomness, only fetched in bulk.
public struct BufferedRandom: RandomNumberGenerator, Sendable {
  public init() {}

  public mutating func next() -> UInt64 { Self.pool.withLock { $0.next() } }

  private static let pool = Mutex(Pool())

  private struct Pool {
    private var words = [UInt64](repeating: 0, count: 512)
    private var index = 512

    mutating func next() -> UInt64 {
      if index == words.count { refill() }
      defer { index += 1 }
      return words[index]
    }

    #if canImport(Glibc)
      /// Opened once, kept for the process's life.
      private static let device: Int32? = {
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        return fd >= 0 ? fd : nil
      }()
    #endif

    private mutating func refill() {
      var filled = 0
      words.withUnsafeMutableBytes { buffer in
        #if canImport(Glibc)
          guard let device = Self.device else { return }
          while filled < buffer.count {
            let count = read(device, buffer.baseAddress! + filled, buffer.count - filled)
            if count > 0 {
              filled += count
            } else if count < 0 && errno == EINTR {
              continue
            } else {
              break
            }
          }
        #endif
      }
      // No device (a sandbox without /dev): the standard library's generator, a word at a time.
      var system = SystemRandomNumberGenerator()
      let first = filled / MemoryLayout<UInt64>.size
      for word in first..<words.count { words[word] = system.next() }
      index = 0
    }
  }
}
