import Foundation
import SagaCore
import Testing

/// The headers of Docs/event-catalog.md on every produced message, and lenient parsing of whatever
/// arrives (the report's services send no headers at all).
@Suite("Event envelope", .timeLimit(.minutes(2)))
struct EnvelopeTests {
  static let trace = TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")!
  static let eventId = UUID(uuidString: "3F2504E0-4F89-41D3-9A0C-0305E82C3301")!
  // 2025-03-01T09:30:00.123Z: 1740821400 s (computed with Python's datetime) + 123 ms.
  static let occurredAt = Date(timeIntervalSince1970: 1_740_821_400.123)

  static func sample(extra: [RecordHeader] = []) -> EventEnvelope {
    EventEnvelope(
      eventType: .reservationCompleted, trace: trace, eventId: eventId, occurredAt: occurredAt, extraHeaders: extra)
  }

  @Test("renders the seven headers in order with the expected values")
  func render() {
    let headers = Self.sample().headers
    #expect(
      headers.map(\.name) == [
        "eventId", "eventType", "eventVersion", "traceparent", "correlationId", "producer", "occurredAt",
      ])
    #expect(
      headers.map(\.value) == [
        "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "ReservationCompleted", "1.0",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736",
        "sagad/payments", "2025-03-01T09:30:00.123Z",
      ])
  }

  @Test("producer defaults to the service that owns the event")
  func producers() {
    let points = EventEnvelope(eventType: .compensatePayment, trace: Self.trace)
    #expect(points.producer == "sagad/points")
    #expect(EventEnvelope(eventType: .compensationFailed, trace: Self.trace).producer == "sagad/payments")
    #expect(EventEnvelope(eventType: .pointRewardCompleted, trace: Self.trace, producer: "x").producer == "x")
  }

  @Test("render → parse round trip, extra headers included")
  func roundTrip() throws {
    let envelope = Self.sample(extra: [RecordHeader(name: HeaderName.republished, value: "2")])
    let received = ReceivedEnvelope(headers: envelope.headers)
    #expect(received.eventId == Self.eventId)
    #expect(received.eventType == .reservationCompleted)
    #expect(received.eventVersion == .current)
    #expect(received.trace == Self.trace)
    #expect(received.correlationId == Self.trace.traceId)
    #expect(received.producer == "sagad/payments")
    #expect(received.occurredAtMilliseconds == 1_740_821_400_123)
    #expect(received.republished == 2)
    #expect(received.value(for: HeaderName.republished) == "2")
    #expect(try #require(received.envelope) == envelope)

    let fresh = EventEnvelope(eventType: .pointRewardFailed, trace: .start(), correlationId: "order-77")
    #expect(ReceivedEnvelope(headers: fresh.headers).envelope == fresh)
  }

  @Test("no headers at all (report format): everything nil, nothing thrown")
  func noHeaders() {
    let received = ReceivedEnvelope(headers: [])
    #expect(received.eventId == nil)
    #expect(received.eventType == nil)
    #expect(received.eventVersion == nil)
    #expect(received.trace == nil)
    #expect(received.correlationId == nil)
    #expect(received.producer == nil)
    #expect(received.occurredAt == nil)
    #expect(received.envelope == nil)
    #expect(received == .empty)
  }

  @Test("partial and malformed headers: good ones kept, bad ones nil")
  func partialHeaders() {
    let received = ReceivedEnvelope(headers: [
      RecordHeader(name: "__TypeId__", value: "com.example.ReservationCompletedKafkaEvent"),
      RecordHeader(name: "eventId", value: "not-a-uuid"),
      RecordHeader(name: "eventType", value: "ReservationCompletedKafkaEvent"),
      RecordHeader(name: "traceparent", value: "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"),
      RecordHeader(name: "correlationId", value: "corr-1"),
      RecordHeader(name: "occurredAt", value: "yesterday"),
      RecordHeader(name: "producer", value: ""),
    ])
    #expect(received.eventId == nil)
    #expect(received.eventType == nil)
    #expect(received.trace == nil)
    #expect(received.correlationId == "corr-1")
    #expect(received.occurredAt == nil)
    #expect(received.producer == nil)
    #expect(received.envelope == nil)
    #expect(received.value(for: HeaderName.springTypeId) == "com.example.ReservationCompletedKafkaEvent")
  }

  @Test("a repeated header: the last value counts")
  func repeatedHeader() {
    let received = ReceivedEnvelope(headers: [
      RecordHeader(name: "sagad-republished", value: "1"),
      RecordHeader(name: "sagad-republished", value: "3"),
    ])
    #expect(received.republished == 3)
    #expect(received.value(for: "sagad-republished") == "3")
  }

  @Test("the next hop keeps trace and correlation id and takes a new span")
  func following() {
    let received = ReceivedEnvelope(headers: Self.sample().headers)
    let next = EventEnvelope(following: received, eventType: .pointRewardCompleted)
    #expect(next.trace.traceId == Self.trace.traceId)
    #expect(next.trace.spanId != Self.trace.spanId)
    #expect(next.correlationId == Self.trace.traceId)
    #expect(next.producer == "sagad/points")
    #expect(next.eventId != Self.eventId)

    let fromSpring = EventEnvelope(following: .empty, eventType: .pointRewardCompleted)
    #expect(fromSpring.correlationId == fromSpring.trace.traceId)

    let correlatedOnly = ReceivedEnvelope(headers: [RecordHeader(name: "correlationId", value: "c-9")])
    #expect(EventEnvelope(following: correlatedOnly, eventType: .compensatePayment).correlationId == "c-9")
  }

  @Test("header names are the wire contract")
  func names() {
    #expect(HeaderName.envelope.count == 7)
    #expect(HeaderName.republished == "sagad-republished")
    #expect(HeaderName.replayOf == "sagad-replay-of")
    #expect(HeaderName.attempts == "sagad-attempts")
    #expect(HeaderName.failureClass == "sagad-failure-class")
    #expect(HeaderName.DeadLetter.required.allSatisfy { $0.hasPrefix("kafka_dlt-") })
    #expect(HeaderName.DeadLetter.required.contains("kafka_dlt-original-consumer-group"))
    #expect(HeaderName.DeadLetter.exceptionFqcn == "kafka_dlt-exception-fqcn")
  }
}
