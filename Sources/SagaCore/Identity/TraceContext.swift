/// W3C Trace Context (https://www.w3.org/TR/trace-context/) for one hop of a saga. `pay`
/// starts a trace; every event of that saga carries the same trace id with a new span id
/// per hop, so any tracing tool (and `grep`) can follow a payment across both services.
/// Kept as validated lowercase hex strings, because that is how it is read, logged and sent.
public struct TraceContext: Sendable, Hashable, CustomStringConvertible {
  /// 32 lowercase hex digits (16 bytes), never all zero.
  public let traceId: String
  /// 16 lowercase hex digits (8 bytes), never all zero: this hop's span, which the next hop
  /// sees as its parent (W3C calls the field `parent-id`).
  public let spanId: String
  /// Trace flags; bit 0 is "sampled".
  public let flags: UInt8

  /// The span id under its W3C name, as the receiver of a `traceparent` sees it.
  public var parentId: String { spanId }
  /// Whether the sampled flag is set.
  public var isSampled: Bool { flags & 0x01 != 0 }

  /// Validates both ids (length, lowercase hex, not all zero).
  public init?(traceId: String, spanId: String, flags: UInt8 = 0x01) {
    guard Self.isValidID(traceId.utf8, length: 32), Self.isValidID(spanId.utf8, length: 16) else {
      return nil
    }
    self.traceId = traceId
    self.spanId = spanId
    self.flags = flags
  }

  /// Strict parse of a `traceparent` header: version `00`, exactly
  /// `00-<32 hex>-<16 hex>-<2 hex>`, lowercase, ids not all zero. A header that fails this
  /// is ignored (the receiver starts a new trace) rather than propagated half-broken.
  public init?(traceparent: String) {
    let bytes = Array(traceparent.utf8)
    guard bytes.count == 55, bytes[0] == 0x30, bytes[1] == 0x30, bytes[2] == 0x2D, bytes[35] == 0x2D,
      bytes[52] == 0x2D, bytes[53...54].allSatisfy(Self.isLowerHex),
      let flags = UInt8(String(decoding: bytes[53...54], as: UTF8.self), radix: 16)
    else { return nil }
    self.init(
      traceId: String(decoding: bytes[3..<35], as: UTF8.self),
      spanId: String(decoding: bytes[36..<52], as: UTF8.self), flags: flags)
  }

  /// A new trace with random ids from the system's CSPRNG (``BufferedRandom``), sampled.
  public static func start() -> TraceContext {
    var generator = BufferedRandom()
    return start(using: &generator)
  }

  /// A new trace with ids from `generator` (tests pass a seeded one).
  public static func start(using generator: inout some RandomNumberGenerator, flags: UInt8 = 0x01)
    -> TraceContext
  {
    var high: UInt64
    var low: UInt64
    repeat {
      high = generator.next()
      low = generator.next()
    } while high == 0 && low == 0
    return TraceContext(
      validTraceId: hex(high) + hex(low), spanId: hex(UInt64.random(in: 1...UInt64.max, using: &generator)),
      flags: flags)
  }

  /// The next hop: same trace and flags, a new random span.
  public func child() -> TraceContext {
    var generator = BufferedRandom()
    return child(using: &generator)
  }

  /// The next hop with a span id from `generator`.
  public func child(using generator: inout some RandomNumberGenerator) -> TraceContext {
    TraceContext(
      validTraceId: traceId, spanId: Self.hex(UInt64.random(in: 1...UInt64.max, using: &generator)), flags: flags)
  }

  /// The `traceparent` header value: `00-<traceId>-<spanId>-<flags>`.
  public var traceparent: String {
    "00-\(traceId)-\(spanId)-" + Self.hex(UInt64(flags), digits: 2)
  }

  public var description: String { traceparent }

  private init(validTraceId: String, spanId: String, flags: UInt8) {
    self.traceId = validTraceId
    self.spanId = spanId
    self.flags = flags
  }

  private static func hex(_ value: UInt64, digits: Int = 16) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: max(0, digits - text.utf8.count)) + text
  }

  private static func isLowerHex(_ byte: UInt8) -> Bool {
    (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte)
  }

  private static func isValidID(_ bytes: some Collection<UInt8>, length: Int) -> Bool {
    bytes.count == length && bytes.allSatisfy(isLowerHex) && bytes.contains { $0 != 0x30 }
  }
}
