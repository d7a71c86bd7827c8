/// The two services one sagad process can host (config `roles`). Each owns its database
/// and the events it produces; the producer name goes into every message's `producer`
/// header so an operator sees which side wrote it.
public enum SagaService: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
  case payments
  case points

  /// The `producer` header value: `sagad/payments` or `sagad/points`.
  public var producerName: String { "sagad/" + rawValue }

  public var description: String { rawValue }
}
