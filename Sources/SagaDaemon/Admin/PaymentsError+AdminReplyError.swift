public import AdminProtocol
public import Payments

/// How the admin socket answers a Payments refusal: the service's own code leads the text
/// (`8002 insufficient-balance: …`) so scripts can match on it.
extension PaymentsError: AdminReplyError {
  /// A lookup rather than a switch: a code Payments adds later falls back to `8000`
  /// instead of breaking the build of the daemon.
  private static let replyCodes: [Code: ReplyCode] = [
    .invalidAmount: .usage, .invalidId: .usage, .userNotFound: .notFound, .userExists: .refused,
    .insufficientBalance: .refused, .idempotencyConflict: .refused, .seatTaken: .refused,
    .compensationNotFound: .notFound, .compensationClosed: .refused, .invalidArgument: .usage,
  ]

  public var replyCode: ReplyCode {
    code == .storage && isRetriable ? .unavailable : Self.replyCodes[code] ?? .failed
  }
}
