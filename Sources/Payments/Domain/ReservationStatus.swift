/// A reservation's state, stored as its raw value in `reservations.status`. A
/// compensation cancels the reservation in the same transaction as the refund.
public enum ReservationStatus: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
  case reserved = "RESERVED"
  case cancelled = "CANCELLED"

  public var description: String { rawValue }
}
