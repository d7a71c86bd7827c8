public import SagaCore

/// A user's request to pay for a seat of a schedule (the report's `PayReservationCommand`).
/// (userId, scheduleId) is the idempotency key: sending the same request again returns
/// the first payment instead of charging twice.
public struct PayRequest: Sendable, Hashable {
  public var userId: Int64
  public var scheduleId: Int64
  /// A seat label such as `A-12`; nil for unreserved seating. A seat is sold once per schedule.
  public var seat: String?
  /// KRW to deduct from the wallet; > 0.
  public var amount: Int64
  /// The trace the saga runs in: what `ReservationCompleted` carries as its parent (the
  /// `pay` span's context when tracing is on). Nil starts a new trace. Not part of the
  /// request's identity: a repeated request is the same payment whatever its trace.
  public var trace: TraceContext?

  public init(userId: Int64, scheduleId: Int64, seat: String? = nil, amount: Int64, trace: TraceContext? = nil) {
    self.userId = userId
    self.scheduleId = scheduleId
    self.seat = seat
    self.amount = amount
    self.trace = trace
  }
}
