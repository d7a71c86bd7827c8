/// A saga event body as it travels on its topic. Conforming types decode with validation
/// (their `init(from:)` throws `SagaError` for missing, ill-typed or out-of-range fields and
/// for an unsupported major version), so a value of one of them is always well-formed.
/// Encode and decode through `EventCodec`, which turns every failure into a permanent
/// `SagaError` the runtime can dead-letter with its reason.
public protocol SagaEvent: Codable, Sendable, Equatable {
  /// The event's name, also its `eventType` header.
  static var eventType: EventType { get }
  /// The topic it is published to.
  static var topic: SagaTopic { get }
  /// The version the body declared (`1.0` when it declared none). Encoding always writes
  /// `EventVersion.current`: sagad only ever produces the schema it implements.
  var eventVersion: EventVersion { get }
  /// The Kafka message key: the `paymentId` as a decimal string, so that one saga's events
  /// stay in order within each topic.
  var messageKey: String { get }
}

extension SagaEvent {
  public static var topic: SagaTopic { eventType.topic }
}
