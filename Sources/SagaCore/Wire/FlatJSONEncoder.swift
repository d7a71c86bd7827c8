/// The fast path of `EventCodec.encode`: an `Encoder` for flat objects (string, integer
/// and boolean fields, and values that encode as one of those, such as `EventVersion`),
/// written straight to bytes. JSONEncoder builds a tree of boxed values and sorts it,
/// which cost ~5 % of the saga's CPU for bodies of five fields.
///
/// The output is byte for byte what JSONEncoder with `[.sortedKeys,
/// .withoutEscapingSlashes]` writes (EventCodecTests compares them). Anything it does not
/// handle the same way (nested containers, floating point, strings with control
/// characters) makes `encode` return nil, and the caller uses JSONEncoder.
public struct FlatJSONEncoder {
  /// Compact JSON with sorted keys, or nil when `value` is not a flat object of the
  /// supported kinds.
  public static func encode(_ value: some Encodable) -> [UInt8]? {
    let encoder = FieldCollector()
    do {
      try value.encode(to: encoder)
    } catch {
      return nil
    }
    guard encoder.isObject else { return nil }
    // The order of JSONEncoder's `.sortedKeys` on Linux (swift-foundation): plain `String`
    // order, so "B" before "a" (FastJSONTests pins it). Comparing lowercased copies, as
    // Darwin's older Foundation did, cost two strings per comparison and gave another order.
    let fields = encoder.fields.sorted { $0.key < $1.key }
    var bytes: [UInt8] = [UInt8(ascii: "{")]
    bytes.reserveCapacity(fields.reduce(2) { $0 + $1.key.utf8.count + $1.json.count + 4 })
    for (index, field) in fields.enumerated() {
      if index > 0 { bytes.append(UInt8(ascii: ",")) }
      guard appendString(field.key, to: &bytes) else { return nil }
      bytes.append(UInt8(ascii: ":"))
      bytes += field.json
    }
    bytes.append(UInt8(ascii: "}"))
    return bytes
  }

  /// Appends `string` quoted, escaping only what JSONEncoder escapes (`"` and `\`);
  /// false for control characters, whose escapes are left to JSONEncoder.
  static func appendString(_ string: String, to bytes: inout [UInt8]) -> Bool {
    bytes.append(UInt8(ascii: "\""))
    for byte in string.utf8 {
      switch byte {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"):
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(byte)
      case 0..<0x20, 0x7F: return false
      default: bytes.append(byte)
      }
    }
    bytes.append(UInt8(ascii: "\""))
    return true
  }
}

/// Thrown inside the fast path for anything it leaves to JSONEncoder.
private struct FlatJSONUnsupported: Error {}

/// Collects one keyed container's fields as ready-made JSON values.
private final class FieldCollector: Encoder {
  var codingPath: [any CodingKey] = []
  var userInfo: [CodingUserInfoKey: Any] { [:] }
  var fields: [(key: String, json: [UInt8])] = []
  var isObject = false

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
    isObject = true
    return KeyedEncodingContainer(FieldContainer<Key>(collector: self))
  }

  func unkeyedContainer() -> any UnkeyedEncodingContainer { UnsupportedContainer() }
  func singleValueContainer() -> any SingleValueEncodingContainer { ScalarCapture() }
}

private struct FieldContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
  let collector: FieldCollector
  var codingPath: [any CodingKey] { [] }

  private func add(_ key: Key, _ json: [UInt8]) {
    collector.fields.append((key.stringValue, json))
  }

  mutating func encodeNil(forKey key: Key) throws { add(key, Array("null".utf8)) }
  mutating func encode(_ value: Bool, forKey key: Key) throws { add(key, Array((value ? "true" : "false").utf8)) }
  mutating func encode(_ value: String, forKey key: Key) throws {
    var json: [UInt8] = []
    guard FlatJSONEncoder.appendString(value, to: &json) else { throw FlatJSONUnsupported() }
    add(key, json)
  }
  mutating func encode(_ value: Int, forKey key: Key) throws { add(key, Array(String(value).utf8)) }
  mutating func encode(_ value: Int8, forKey key: Key) throws { add(key, Array(String(value).utf8)) }
  mutating func encode(_ value: Int16, forKey key: Key) throws { add(key, Array(String(value).utf8)) }
  mutating func encode(_ value: Int32, forKey key: Key) throws { add(key, Array(String(value).utf8)) }
  mutating func encode(_ value: Int64, forKey key: Key) throws { add(key, Array(String(value).utf8)) }
  mutating func encode(_ value: UInt, forKey key: Key) throws { add(key, Array(String(value).utf8)) }
  mutating func encode(_ value: UInt8, forKey key: Key) throws { add(key, Array(String(value).utf8)) }
  mutating func encode(_ value: UInt16, forKey key: Key) throws { add(key, Array(String(value).utf8)) }
  mutating func encode(_ value: UInt32, forKey key: Key) throws { add(key, Array(String(value).utf8)) }
  mutating func encode(_ value: UInt64, forKey key: Key) throws { add(key, Array(String(value).utf8)) }
  mutating func encode(_ value: Double, forKey key: Key) throws { throw FlatJSONUnsupported() }
  mutating func encode(_ value: Float, forKey key: Key) throws { throw FlatJSONUnsupported() }

  /// A value of another type (e.g. `EventVersion`) must encode as one scalar.
  mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
    let capture = ScalarCapture()
    try value.encode(to: capture)
    guard let json = capture.json else { throw FlatJSONUnsupported() }
    add(key, json)
  }

  mutating func nestedContainer<NestedKey: CodingKey>(
    keyedBy keyType: NestedKey.Type, forKey key: Key
  ) -> KeyedEncodingContainer<NestedKey> {
    collector.isObject = false  // not flat: the caller falls back
    return KeyedEncodingContainer(FieldContainer<NestedKey>(collector: FieldCollector()))
  }

  mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
    collector.isObject = false
    return UnsupportedContainer()
  }

  mutating func superEncoder() -> any Encoder {
    collector.isObject = false
    return FieldCollector()
  }

  mutating func superEncoder(forKey key: Key) -> any Encoder {
    collector.isObject = false
    return FieldCollector()
  }
}

/// Captures the one scalar a value encodes into its single-value container.
private final class ScalarCapture: Encoder, SingleValueEncodingContainer {
  var codingPath: [any CodingKey] = []
  var userInfo: [CodingUserInfoKey: Any] { [:] }
  var json: [UInt8]?

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
    json = nil
    return KeyedEncodingContainer(FieldContainer<Key>(collector: FieldCollector()))
  }

  func unkeyedContainer() -> any UnkeyedEncodingContainer { UnsupportedContainer() }
  func singleValueContainer() -> any SingleValueEncodingContainer { self }

  func encodeNil() throws { json = Array("null".utf8) }
  func encode(_ value: Bool) throws { json = Array((value ? "true" : "false").utf8) }
  func encode(_ value: String) throws {
    var bytes: [UInt8] = []
    guard FlatJSONEncoder.appendString(value, to: &bytes) else { throw FlatJSONUnsupported() }
    json = bytes
  }
  func encode(_ value: Int) throws { json = Array(String(value).utf8) }
  func encode(_ value: Int8) throws { json = Array(String(value).utf8) }
  func encode(_ value: Int16) throws { json = Array(String(value).utf8) }
  func encode(_ value: Int32) throws { json = Array(String(value).utf8) }
  func encode(_ value: Int64) throws { json = Array(String(value).utf8) }
  func encode(_ value: UInt) throws { json = Array(String(value).utf8) }
  func encode(_ value: UInt8) throws { json = Array(String(value).utf8) }
  func encode(_ value: UInt16) throws { json = Array(String(value).utf8) }
  func encode(_ value: UInt32) throws { json = Array(String(value).utf8) }
  func encode(_ value: UInt64) throws { json = Array(String(value).utf8) }
  func encode(_ value: Double) throws { throw FlatJSONUnsupported() }
  func encode(_ value: Float) throws { throw FlatJSONUnsupported() }
  func encode<T: Encodable>(_ value: T) throws {
    let inner = ScalarCapture()
    try value.encode(to: inner)
    guard let captured = inner.json else { throw FlatJSONUnsupported() }
    json = captured
  }
}

/// Any unkeyed container: the fast path does not write arrays.
private struct UnsupportedContainer: UnkeyedEncodingContainer {
  var codingPath: [any CodingKey] { [] }
  var count: Int { 0 }

  mutating func encodeNil() throws { throw FlatJSONUnsupported() }
  mutating func encode<T: Encodable>(_ value: T) throws { throw FlatJSONUnsupported() }
  mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
    -> KeyedEncodingContainer<NestedKey>
  {
    KeyedEncodingContainer(FieldContainer<NestedKey>(collector: FieldCollector()))
  }
  mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { self }
  mutating func superEncoder() -> any Encoder { FieldCollector() }
}
