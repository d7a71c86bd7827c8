/// Finds a key that appears twice in one JSON object, at any depth.
///
/// RFC 8259 leaves duplicate names to the reader, and readers disagree: Foundation's
/// JSONDecoder keeps the first value, Jackson and most others the last. A body with
/// `"paidAmount": 1, "paidAmount": 100000` would then mean different amounts to sagad and
/// to a Spring peer, so `EventCodec` refuses it as `invalid-json` rather than pick one.
/// Only bodies the fast reader could not take come here (it refuses duplicates itself), so
/// this walk costs nothing on the saga's path. Keys are compared after unescaping, as JSON
/// defines them (`"a"` and `"\u0061"` are the same key).
enum JSONDuplicateKeys {
  /// The first duplicated key, or nil when there is none or the text is not JSON enough
  /// to tell (JSONDecoder then reports the syntax error itself).
  static func first(in bytes: [UInt8]) -> String? {
    bytes.withUnsafeBufferPointer { buffer in
      var scanner = Scanner(bytes: buffer)
      return scanner.duplicate()
    }
  }

  private struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    /// Nesting kept well below the stack's limit; deeper input is left to JSONDecoder.
    static let maximumDepth = 512

    mutating func duplicate() -> String? {
      var found: String?
      _ = value(depth: 0, found: &found)
      return found
    }

    /// Skips one value; false on malformed input or once a duplicate is found.
    private mutating func value(depth: Int, found: inout String?) -> Bool {
      skipWhitespace()
      guard index < bytes.count, depth < Self.maximumDepth else { return false }
      switch bytes[index] {
      case UInt8(ascii: "{"): return object(depth: depth, found: &found)
      case UInt8(ascii: "["): return array(depth: depth, found: &found)
      case UInt8(ascii: "\""): return string() != nil
      default:
        // Numbers and literals: everything up to the next delimiter.
        let start = index
        while index < bytes.count, !Self.isDelimiter(bytes[index]) { index += 1 }
        return index > start
      }
    }

    private mutating func object(depth: Int, found: inout String?) -> Bool {
      index += 1
      var keys = Set<String>()
      skipWhitespace()
      if take(UInt8(ascii: "}")) { return true }
      repeat {
        skipWhitespace()
        guard let key = string() else { return false }
        guard keys.insert(key).inserted else {
          found = key
          return false
        }
        skipWhitespace()
        guard take(UInt8(ascii: ":")), value(depth: depth + 1, found: &found) else { return false }
        skipWhitespace()
      } while take(UInt8(ascii: ","))
      return take(UInt8(ascii: "}"))
    }

    private mutating func array(depth: Int, found: inout String?) -> Bool {
      index += 1
      skipWhitespace()
      if take(UInt8(ascii: "]")) { return true }
      repeat {
        guard value(depth: depth + 1, found: &found) else { return false }
        skipWhitespace()
      } while take(UInt8(ascii: ","))
      return take(UInt8(ascii: "]"))
    }

    /// A string with its escapes resolved; nil if malformed.
    private mutating func string() -> String? {
      guard take(UInt8(ascii: "\"")) else { return nil }
      var scalars = String.UnicodeScalarView()
      var raw: [UInt8] = []
      func flush() {
        scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
        raw.removeAll(keepingCapacity: true)
      }
      var pendingHigh: UInt32?
      while index < bytes.count {
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""):
          flush()
          return String(scalars)
        case UInt8(ascii: "\\"):
          guard index < bytes.count else { return nil }
          let escape = bytes[index]
          index += 1
          flush()
          switch escape {
          case UInt8(ascii: "u"):
            guard let unit = hex4() else { return nil }
            if let high = pendingHigh, (0xDC00...0xDFFF).contains(unit) {
              pendingHigh = nil
              scalars.append(Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00))!)
            } else if (0xD800...0xDBFF).contains(unit) {
              pendingHigh = unit
            } else {
              scalars.append(Unicode.Scalar(unit) ?? "\u{FFFD}")
            }
            continue
          case UInt8(ascii: "b"): scalars.append("\u{08}")
          case UInt8(ascii: "f"): scalars.append("\u{0C}")
          case UInt8(ascii: "n"): scalars.append("\n")
          case UInt8(ascii: "r"): scalars.append("\r")
          case UInt8(ascii: "t"): scalars.append("\t")
          default: scalars.append(Unicode.Scalar(escape))
          }
        default:
          raw.append(byte)
        }
        pendingHigh = nil
      }
      return nil
    }

    private mutating func hex4() -> UInt32? {
      guard index + 4 <= bytes.count else { return nil }
      var value: UInt32 = 0
      for _ in 0..<4 {
        let byte = bytes[index]
        index += 1
        guard let digit = Self.hexValue(byte) else { return nil }
        value = value << 4 | digit
      }
      return value
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
      default: nil
      }
    }

    private static func isDelimiter(_ byte: UInt8) -> Bool {
      switch byte {
      case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: " "), UInt8(ascii: "\n"),
        UInt8(ascii: "\r"), UInt8(ascii: "\t"):
        true
      default: false
      }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
      guard index < bytes.count, bytes[index] == byte else { return false }
      index += 1
      return true
    }

    private mutating func skipWhitespace() {
      while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
    }
  }
}
