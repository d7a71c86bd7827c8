/// What runs the other side of the saga (`peers.points`, `peers.payments`), and so what
/// sagad may send it again (Docs/event-catalog.md, "Running beside the Spring services").
public enum PeerKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  /// Another sagad: it deduplicates by event id and business key, so a second copy of an
  /// event is harmless and re-announcing heals lost hand-offs.
  case sagad
  /// The report's Spring service: no idempotency (its Points rewards every copy, its
  /// Payments refunds every copy), so sagad never sends it a second copy of an event that
  /// moves money.
  case spring

  /// Whether a second copy of an event is a no-op on this peer.
  public var isIdempotent: Bool { self == .sagad }

  public var description: String { rawValue }
}
