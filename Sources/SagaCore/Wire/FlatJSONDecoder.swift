/// The fast path of `EventCodec.decode`: a `Decoder` over a flat JSON object (string,
/// integer, boolean and null values) parsed by hand. JSONDecoder cost ~6 % of the saga's
/// CPU for bodies of five fields.
///
/// It only ever succeeds where JSONDecoder would succeed with the same values: the
/// parser is strict RFC 8259 and refuses whatever it does not handle itself (nested
/// values, fractions and exponents, escapes, duplicate keys), and every decoding
/// failure (missing field, wrong type, …) makes `decode` return nil, so the caller runs
/// JSONDecoder and reports exactly the error it always did. `sagactl load` reads sagad's
/// flat replies (`pay`) with it too.
public struct FlatJSONDecoder {
  public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) -> T? {
    guard
      let fields = bytes.withUnsafeBufferPointer({ buffer -> [String: FlatJSONValue]? in
        var parser = FlatJSONParser(bytes: buffer)
        return parser.object()
      })
    else { return nil }
    return try? T(from: FlatObjectDecoder(fields: fields))
  }
}

private enum FlatJSONValue {
  case string(String)
  /// Digits with an optional minus sign, no fraction or exponent.
  case integer(String)
  case bool(Bool)
  case null
}

/// Strict parser for `{ "key": scalar, … }` with no escapes in keys or strings.
private struct FlatJSONParser {
  let bytes: UnsafeBufferPointer<UInt8>
  var index = 0

  mutating func object() -> [String: FlatJSONValue]? {
    skipWhitespace()
    guard take(UInt8(ascii: "{")) else { return nil }
    var fields: [String: FlatJSONValue] = [:]
    skipWhitespace()
    if !take(UInt8(ascii: "}")) {
      repeat {
        skipWhitespace()
        guard let key = string() else { return nil }
        skipWhitespace()
        guard take(UInt8(ascii: ":")) else { return nil }
        skipWhitespace()
        guard let value = value(), fields.updateValue(value, forKey: key) == nil else { return nil }
        skipWhitespace()
      } while take(UInt8(ascii: ","))
      guard take(UInt8(ascii: "}")) else { return nil }
    }
    skipWhitespace()
    return index == bytes.count ? fields : nil
  }

  private mutating func value() -> FlatJSONValue? {
    guard index < bytes.count else { return nil }
    switch bytes[index] {
    case UInt8(ascii: "\""): return string().map(FlatJSONValue.string)
    case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
    case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
    case UInt8(ascii: "n"): return literal("null") ? .null : nil
    default: return integer().map(FlatJSONValue.integer)
    }
  }

  /// `-?(0|[1-9][0-9]*)`, not followed by a fraction or an exponent.
  private mutating func integer() -> String? {
    let start = index
    _ = take(UInt8(ascii: "-"))
    guard index < bytes.count, isDigit(bytes[index]) else { return nil }
    if bytes[index] == UInt8(ascii: "0") {
      index += 1
    } else {
      while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }
    if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) {
      return nil
    }
    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
  }

  /// A string without escapes or control characters (both left to JSONDecoder).
  private mutating func string() -> String? {
    guard take(UInt8(ascii: "\"")) else { return nil }
    let start = index
    while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
      guard bytes[index] >= 0x20, bytes[index] != UInt8(ascii: "\\") else { return nil }
      index += 1
    }
    guard index < bytes.count else { return nil }
    index += 1
    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index - 1]), as: UTF8.self)
  }

  private mutating func literal(_ word: StaticString) -> Bool {
    let count = word.utf8CodeUnitCount
    guard index + count <= bytes.count else { return false }
    for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
    index += count
    return true
  }

  private mutating func take(_ byte: UInt8) -> Bool {
    guard index < bytes.count, bytes[index] == byte else { return false }
    index += 1
    return true
  }

  private mutating func skipWhitespace() {
    while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
  }

  private func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
}

/// Thrown for anything the fast path leaves to JSONDecoder.
private struct FlatDecodingUnsupported: Error {}

private struct FlatObjectDecoder: Decoder {
  let fields: [String: FlatJSONValue]
  var codingPath: [any CodingKey] { [] }
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
    KeyedDecodingContainer(FlatKeyedContainer<Key>(fields: fields))
  }

  func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw FlatDecodingUnsupported() }
  func singleValueContainer() throws -> any SingleValueDecodingContainer { throw FlatDecodingUnsupported() }
}

private struct FlatKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
  let fields: [String: FlatJSONValue]
  var codingPath: [any CodingKey] { [] }
  var allKeys: [Key] { fields.keys.compactMap { Key(stringValue: $0) } }

  func contains(_ key: Key) -> Bool { fields[key.stringValue] != nil }

  func decodeNil(forKey key: Key) throws -> Bool {
    guard let value = fields[key.stringValue] else { throw FlatDecodingUnsupported() }
    if case .null = value { return true }
    return false
  }

  func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
    guard case .bool(let value) = fields[key.stringValue] else { throw FlatDecodingUnsupported() }
    return value
  }

  func decode(_ type: String.Type, forKey key: Key) throws -> String {
    guard case .string(let value) = fields[key.stringValue] else { throw FlatDecodingUnsupported() }
    return value
  }

  func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(key) }
  func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(key) }
  func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(key) }
  func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(key) }
  func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(key) }
  func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(key) }
  func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(key) }
  func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(key) }
  func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(key) }
  func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(key) }
  func decode(_ type: Double.Type, forKey key: Key) throws -> Double { throw FlatDecodingUnsupported() }
  func decode(_ type: Float.Type, forKey key: Key) throws -> Float { throw FlatDecodingUnsupported() }

  /// Every other type (floating point, other integer widths, nested values) is left to
  /// JSONDecoder.
  func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
    switch type {
    case is String.Type: return try decode(String.self, forKey: key) as! T
    case is Int64.Type: return try decode(Int64.self, forKey: key) as! T
    case is Int.Type: return try decode(Int.self, forKey: key) as! T
    case is Bool.Type: return try decode(Bool.self, forKey: key) as! T
    default: throw FlatDecodingUnsupported()
    }
  }

  private func integer<I: FixedWidthInteger>(_ key: Key) throws -> I {
    guard case .integer(let text) = fields[key.stringValue], let value = I(text) else {
      throw FlatDecodingUnsupported()
    }
    return value
  }

  func nestedContainer<NestedKey: CodingKey>(
    keyedBy type: NestedKey.Type, forKey key: Key
  ) throws -> KeyedDecodingContainer<NestedKey> { throw FlatDecodingUnsupported() }
  func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
    throw FlatDecodingUnsupported()
  }
  func superDecoder() throws -> any Decoder { throw FlatDecodingUnsupported() }
  func superDecoder(forKey key: Key) throws -> any Decoder { throw FlatDecodingUnsupported() }
}
