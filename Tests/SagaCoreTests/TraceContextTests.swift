import SagaCore
import Testing

/// W3C trace context: strict parsing, exact formatting, fresh ids per trace and per hop.
@Suite("Trace context", .timeLimit(.minutes(2)))
struct TraceContextTests {
  // The example from the W3C Trace Context recommendation.
  static let w3cExample = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

  @Test("parses and re-formats the W3C example")
  func parseFormat() throws {
    let trace = try #require(TraceContext(traceparent: Self.w3cExample))
    #expect(trace.traceId == "4bf92f3577b34da6a3ce929d0e0e4736")
    #expect(trace.spanId == "00f067aa0ba902b7")
    #expect(trace.parentId == "00f067aa0ba902b7")
    #expect(trace.flags == 1)
    #expect(trace.isSampled)
    #expect(trace.traceparent == Self.w3cExample)
    let unsampled = try #require(TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"))
    #expect(!unsampled.isSampled)
    #expect(TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff")?.flags == 255)
  }

  @Test(
    "rejects malformed traceparents",
    arguments: [
      "",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  // no flags
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // unknown version
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // forbidden version
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // all-zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // all-zero span id
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // short trace id
      "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b-01",  // misplaced dash
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // trailing dash
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",  // one-digit flags
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",  // uppercase flags
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902g7-01",  // non-hex
      "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",  // wrong separators
      " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // leading space
    ])
  func rejects(_ header: String) {
    #expect(TraceContext(traceparent: header) == nil)
  }

  @Test("component initialiser validates ids")
  func components() {
    #expect(TraceContext(traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7") != nil)
    #expect(TraceContext(traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b") == nil)
    #expect(TraceContext(traceId: String(repeating: "0", count: 32), spanId: "00f067aa0ba902b7") == nil)
    #expect(TraceContext(traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00F067AA0BA902B7") == nil)
  }

  @Test("start() makes valid, distinct traces; child() keeps the trace and changes the span")
  func startAndChild() throws {
    var seen = Set<String>()
    for _ in 0..<200 {
      let trace = TraceContext.start()
      #expect(TraceContext(traceparent: trace.traceparent) == trace)
      #expect(trace.isSampled)
      seen.insert(trace.traceId)
      let child = trace.child()
      #expect(child.traceId == trace.traceId)
      #expect(child.flags == trace.flags)
      #expect(child.spanId != trace.spanId)
      #expect(TraceContext(traceparent: child.traceparent) == child)
    }
    #expect(seen.count == 200)
  }

  @Test("ids keep their leading zeros")
  func leadingZeros() throws {
    // A generator whose first words are small: the hex must still be full width.
    struct Small: RandomNumberGenerator {
      var value: UInt64 = 0
      mutating func next() -> UInt64 {
        value += 1
        return value
      }
    }
    var generator = Small()
    let trace = TraceContext.start(using: &generator)
    #expect(trace.traceId.count == 32)
    #expect(trace.traceId.hasPrefix("0000000000000001"))
    #expect(trace.spanId.count == 16)
    #expect(TraceContext(traceparent: trace.traceparent) == trace)
  }

  @Test("seeded generators are reproducible")
  func seeded() {
    var first = SeededGenerator(seed: 42)
    var second = SeededGenerator(seed: 42)
    #expect(TraceContext.start(using: &first) == TraceContext.start(using: &second))
  }
}
