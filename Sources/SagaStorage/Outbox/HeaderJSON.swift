import Foundation
import SagaCore

/// The outbox's header column format, written and read without Foundation's JSON coders
/// (see `HeaderCoding` for why): `[["name","value"],…]`, where a header whose value is
/// not UTF-8 text is `{"name":"…","base64":"…"}` and one with a null value `{"name":"…"}`
/// (the form `dead_letters.headers` uses), so that a dead letter's binary headers survive.
///
/// The writer emits strict RFC 8259 JSON: `"` and `\` escaped, control characters as
/// `\n`, `\t`, … or `\u00XX`, everything else (including non-ASCII) as UTF-8. The reader
/// accepts exactly the pairs, with optional whitespace and every JSON string escape
/// (so rows written by JSONEncoder, which escapes `/`, read too), and returns nil for
/// anything else rather than guessing: the caller then falls back to JSONDecoder, which
/// also reads the object forms.
enum HeaderJSON {
  static func encode(_ headers: [RecordHeader]) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(headers.reduce(2) { $0 + $1.name.utf8.count + ($1.text?.utf8.count ?? 16) + 8 })
    bytes.append(UInt8(ascii: "["))
    for (index, header) in headers.enumerated() {
      if index > 0 { bytes.append(UInt8(ascii: ",")) }
      switch header.content {
      case .text(let text):
        bytes.append(UInt8(ascii: "["))
        appendString(header.name, to: &bytes)
        bytes.append(UInt8(ascii: ","))
        appendString(text, to: &bytes)
        bytes.append(UInt8(ascii: "]"))
      case .binary(let value):
        bytes += Array(#"{"name":"#.utf8)
        appendString(header.name, to: &bytes)
        bytes += Array(#","base64":""#.utf8)
        bytes += Array(Data(value).base64EncodedString().utf8)
        bytes += Array(#""}"#.utf8)
      case .null:
        bytes += Array(#"{"name":"#.utf8)
        appendString(header.name, to: &bytes)
        bytes.append(UInt8(ascii: "}"))
      }
    }
    bytes.append(UInt8(ascii: "]"))
    return String(decoding: bytes, as: UTF8.self)
  }

  static func decode(_ text: String) -> [RecordHeader]? {
    var text = text
    return text.withUTF8 { buffer in
      var reader = Reader(bytes: buffer)
      return reader.headers()
    }
  }

  private static func appendString(_ string: String, to bytes: inout [UInt8]) {
    bytes.append(UInt8(ascii: "\""))
    for byte in string.utf8 {
      switch byte {
      case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
      case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
      case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
      case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
      case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
      case 0..<0x20:
        bytes.append(contentsOf: Array("\\u00".utf8))
        bytes.append(hexDigit(byte >> 4))
        bytes.append(hexDigit(byte & 0x0F))
      default: bytes.append(byte)
      }
    }
    bytes.append(UInt8(ascii: "\""))
  }

  private static func hexDigit(_ value: UInt8) -> UInt8 {
    value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
  }

  /// A cursor over the column's UTF-8 bytes; every method returns nil on anything unexpected.
  private struct Reader {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    mutating func headers() -> [RecordHeader]? {
      guard skip(UInt8(ascii: "[")) else { return nil }
      var headers: [RecordHeader] = []
      if skip(UInt8(ascii: "]")) { return atEnd() ? headers : nil }
      repeat {
        guard skip(UInt8(ascii: "[")), let name = string(), skip(UInt8(ascii: ",")), let value = string(),
          skip(UInt8(ascii: "]"))
        else { return nil }
        headers.append(RecordHeader(name: name, value: value))
      } while skip(UInt8(ascii: ","))
      guard skip(UInt8(ascii: "]")), atEnd() else { return nil }
      return headers
    }

    private mutating func atEnd() -> Bool {
      skipWhitespace()
      return index == bytes.count
    }

    private mutating func skip(_ byte: UInt8) -> Bool {
      skipWhitespace()
      guard index < bytes.count, bytes[index] == byte else { return false }
      index += 1
      return true
    }

    private mutating func skipWhitespace() {
      while index < bytes.count,
        bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09
      {
        index += 1
      }
    }

    private mutating func string() -> String? {
      guard skip(UInt8(ascii: "\"")) else { return nil }
      let start = index
      // The common case: no escapes, one copy.
      while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
        guard bytes[index] >= 0x20 else { return nil }
        index += 1
      }
      guard index < bytes.count else { return nil }
      if bytes[index] == UInt8(ascii: "\"") {
        index += 1
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index - 1]), as: UTF8.self)
      }
      var unescaped = Array(bytes[start..<index])
      while index < bytes.count {
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""): return String(decoding: unescaped, as: UTF8.self)
        case UInt8(ascii: "\\"):
          guard escape(into: &unescaped) else { return nil }
        case 0..<0x20: return nil
        default: unescaped.append(byte)
        }
      }
      return nil
    }

    /// One escape after its backslash, appended as UTF-8.
    private mutating func escape(into output: inout [UInt8]) -> Bool {
      guard index < bytes.count else { return false }
      let byte = bytes[index]
      index += 1
      switch byte {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(byte)
      case UInt8(ascii: "b"): output.append(0x08)
      case UInt8(ascii: "f"): output.append(0x0C)
      case UInt8(ascii: "n"): output.append(0x0A)
      case UInt8(ascii: "r"): output.append(0x0D)
      case UInt8(ascii: "t"): output.append(0x09)
      case UInt8(ascii: "u"):
        guard var scalar = hex4() else { return false }
        if (0xD800..<0xDC00).contains(scalar) {
          // A high surrogate must be followed by an escaped low one.
          guard skipLiteral("\\u"), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return false }
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(scalar) {
          return false
        }
        guard let unicode = Unicode.Scalar(scalar) else { return false }
        output.append(contentsOf: Array(String(Character(unicode)).utf8))
      default: return false
      }
      return true
    }

    private mutating func skipLiteral(_ literal: StaticString) -> Bool {
      let count = literal.utf8CodeUnitCount
      guard index + count <= bytes.count else { return false }
      for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] { return false }
      index += count
      return true
    }

    private mutating func hex4() -> UInt32? {
      guard index + 4 <= bytes.count else { return nil }
      var value: UInt32 = 0
      for _ in 0..<4 {
        let byte = bytes[index]
        let digit: UInt8
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
        default: return nil
        }
        value = value << 4 | UInt32(digit)
        index += 1
      }
      return value
    }
  }
}
