import SagaCore
import SagaStorage

/// Why a Payments operation (`addUser`, `charge`, `pay`, …) was refused or failed. The
/// code is stable (the admin socket and `sagactl` show it, scripts match on it); the
/// message is for a person and names the user, payment or amount at fault.
/// `isRetriable` tells a caller whether the same request can succeed later unchanged
/// (only storage trouble qualifies: every business refusal is final).
public struct PaymentsError: Error, Sendable, Hashable, CustomStringConvertible {
  public enum Code: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// An amount is zero, negative, or would overflow a balance.
    case invalidAmount = "invalid-amount"
    /// A user, schedule or payment id is not a positive integer.
    case invalidId = "invalid-id"
    /// No user (wallet) with that id.
    case userNotFound = "user-not-found"
    /// `addUser` for an id that already exists (not idempotent on purpose: a repeated
    /// call with another initial balance must not be silently ignored).
    case userExists = "user-exists"
    /// The wallet holds less than the amount to pay.
    case insufficientBalance = "insufficient-balance"
    /// The (user, schedule) idempotency key already names a payment with another amount
    /// or seat: not a retry of the same request.
    case idempotencyConflict = "idempotency-conflict"
    /// The seat of that schedule is held by another reservation.
    case seatTaken = "seat-taken"
    /// No parked compensation for that payment (`compensations retry|resolve`).
    case compensationNotFound = "compensation-not-found"
    /// The parked compensation was already closed by an operator: nothing to retry or resolve.
    case compensationClosed = "compensation-closed"
    /// A required text argument is empty or too long (a resolve note, an operator name).
    case invalidArgument = "invalid-argument"
    /// The database failed; `isRetriable` says whether trying again can help.
    case storage = "storage"
    /// A bug or a broken invariant in stored data.
    case internalError = "internal"

    public var description: String { rawValue }
  }

  public let code: Code
  public let message: String
  public let isRetriable: Bool

  public init(_ code: Code, _ message: String, isRetriable: Bool = false) {
    self.code = code
    self.message = message
    self.isRetriable = isRetriable
  }

  public var description: String { "\(code): \(message)" }

  /// Any error out of a database closure as a `PaymentsError`: business errors pass
  /// through, SQLite errors keep their retriability.
  static func wrapping(_ error: any Error) -> PaymentsError {
    switch error {
    case let error as PaymentsError: error
    case let error as StorageError: PaymentsError(.storage, error.description, isRetriable: error.isRetriable)
    case let error as SagaError: PaymentsError(.storage, error.description, isRetriable: error.isRetriable)
    default: PaymentsError(.internalError, "\(error)")
    }
  }
}
