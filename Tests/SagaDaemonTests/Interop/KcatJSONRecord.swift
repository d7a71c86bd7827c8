/// One record as `kcat -C -J` prints it, read from its raw bytes. `-J` is the view of kcat
/// that keeps every byte of a key or header value (`-f '%h'` stops a value at its first
/// zero byte): control characters come as JSON escapes, other bytes as they are, so the
/// line is not necessarily UTF-8 and JSONDecoder cannot read it.
struct KcatJSONRecord {
  /// The key's bytes; nil for a null key.
  var key: [UInt8]?
  /// Every header in order, its value's bytes or nil for a null value.
  var headers: [(name: String, value: [UInt8]?)]

  /// Reads the `"key"` and `"headers"` fields of one `-J` line; nil if they are not there
  /// in the shape kcat writes.
  init?(_ line: [UInt8]) {
    var reader = Reader(bytes: line)
    guard reader.seek(after: Array(#""headers":["#.utf8)) else { return nil }
    var headers: [(name: String, value: [UInt8]?)] = []
    while !reader.skip(UInt8(ascii: "]")) {
      if !headers.isEmpty { guard reader.skip(UInt8(ascii: ",")) else { return nil } }
      guard let name = reader.string().map({ String(decoding: $0, as: UTF8.self) }),
        reader.skip(UInt8(ascii: ",")), let value = reader.nullableString()
      else { return nil }
      headers.append((name, value))
    }
    self.headers = headers
    var keyReader = Reader(bytes: line)
    guard keyReader.seek(after: Array(#""key":"#.utf8)), let key = keyReader.nullableString() else { return nil }
    self.key = key
  }

  private struct Reader {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func seek(after needle: [UInt8]) -> Bool {
      guard let range = bytes[index...].firstRange(of: needle) else { return false }
      index = range.upperBound
      return true
    }

    mutating func skip(_ byte: UInt8) -> Bool {
      guard index < bytes.count, bytes[index] == byte else { return false }
      index += 1
      return true
    }

    /// `null` as `.some(nil)`, a string as its bytes; nil for anything else.
    mutating func nullableString() -> [UInt8]?? {
      if bytes[index...].starts(with: Array("null".utf8)) {
        index += 4
        return .some(nil)
      }
      return string().map { .some($0) }
    }

    mutating func string() -> [UInt8]? {
      guard skip(UInt8(ascii: "\"")) else { return nil }
      var value: [UInt8] = []
      while index < bytes.count {
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""): return value
        case UInt8(ascii: "\\"):
          guard index < bytes.count else { return nil }
          let escaped = bytes[index]
          index += 1
          switch escaped {
          case UInt8(ascii: "b"): value.append(0x08)
          case UInt8(ascii: "f"): value.append(0x0C)
          case UInt8(ascii: "n"): value.append(0x0A)
          case UInt8(ascii: "r"): value.append(0x0D)
          case UInt8(ascii: "t"): value.append(0x09)
          case UInt8(ascii: "u"):
            // kcat escapes only control characters this way: one byte each.
            guard index + 4 <= bytes.count,
              let scalar = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16),
              scalar < 0x80
            else { return nil }
            value.append(UInt8(scalar))
            index += 4
          default: value.append(escaped)
          }
        default: value.append(byte)
        }
      }
      return nil
    }
  }
}
