import Foundation
import SagaCore
import SagaStorage

/// Operations on parked compensations (Docs/design.md, "Compensation"): list them, retry the refund once
/// the cause is fixed, or resolve one that an operator handled outside sagad.
extension PaymentsService {
  /// The longest note or operator name accepted: a sentence or two, not a document.
  public static let maximumNoteLength = 1_000

  private static let notParked: SagaError.Code = "not-parked"

  /// Parked compensations, oldest first; only those still waiting when `unresolvedOnly`.
  public func compensationFailures(unresolvedOnly: Bool = true) async throws(PaymentsError)
    -> [CompensationFailureRecord]
  {
    try await read { db in try CompensationFailureRecord.fetchAll(unresolvedOnly: unresolvedOnly, in: db) }
  }

  /// How many parked compensations wait for an operator (`status`, metrics).
  public func openCompensationCount() async throws(PaymentsError) -> Int {
    try await read { db in try CompensationFailureRecord.unresolvedCount(in: db) }
  }

  /// Runs the refund of a parked compensation again, in one transaction, with the rules
  /// of the saga itself (`payments.refund` failpoint included): exactly the paid amount,
  /// once (the refund is unique per payment), payment `REFUNDED`, reservation `CANCELLED`,
  /// every open record of the payment closed as `retried`.
  ///
  /// When the cause still holds (the payment is unknown or was rewarded, the request named
  /// another user or amount, the refund fails again) nothing is refunded: the record takes
  /// the new reason and the result says `stillParked`. A payment already refunded answers
  /// `alreadyRefunded` and changes nothing, so repeating a retry is safe.
  /// - Parameter actor: who asked (kept on the record and in the saga's timeline).
  /// - Throws: `compensation-not-found` when the payment has no parked compensation,
  ///   `compensation-closed` when an operator resolved it, `storage` for database trouble.
  public func retryCompensation(paymentId: Int64, by actor: String) async throws(PaymentsError)
    -> CompensationRetryResult
  {
    let actor = try Self.validated(actor, "operator name")
    let now = clock()
    let failpoints = self.failpoints
    return try await write { db in
      let payment = try PaymentView.fetch(id: paymentId, in: db)
      if let payment, payment.status == .refunded {
        let closed = try CompensationFailureRecord.close(
          paymentId: paymentId, resolution: .retried, by: actor, note: "already refunded", at: now, in: db)
        if closed > 0 {
          try SagaStep.record(
            .compensationResolved, paymentId: paymentId, outcome: "retry by \(actor): already REFUNDED, record closed",
            at: now, in: db)
        }
        return .alreadyRefunded(paymentId: paymentId, amount: payment.refundedAmount ?? payment.amount)
      }
      let record = try Self.openRecord(paymentId: paymentId, in: db)
      var failure = CompensationRefund.obstacle(
        paymentId: paymentId, userId: record.userId, refundAmount: record.refundAmount, payment: payment)
      if failure == nil, let payment, payment.status != .compensationFailed {
        // Parked as unknown, and a payment with that id was made since: not the one the
        // compensation meant, so nothing of it may be refunded by this record.
        failure = SagaError(
          Self.notParked,
          "payment \(paymentId) is \(payment.status), it was not parked by this compensation; resolve the record")
      }
      if failure == nil, let payment {
        let attempt = Result { () throws(SagaError) -> Int64 in
          try CompensationRefund.apply(
            payment, reason: "operator retry by \(actor); parked for \(record.reason)", failpoints: failpoints,
            at: now, in: db)
        }
        switch attempt {
        case .success(let balance):
          try CompensationFailureRecord.close(
            paymentId: paymentId, resolution: .retried, by: actor, note: "refunded \(payment.amount) KRW",
            at: now, in: db)
          try SagaStep.record(
            .compensationRefunded, paymentId: paymentId,
            outcome: "REFUNDED by operator retry (\(actor)): \(payment.amount) KRW back (balance \(balance) KRW),"
              + " reservation \(payment.reservationId) CANCELLED",
            at: now, in: db)
          return .refunded(paymentId: paymentId, amount: payment.amount, balance: balance)
        case .failure(let error):
          // Transient ones too: the operator is told now and may simply retry again.
          failure = CompensationRefund.failure(error, refunding: payment)
        }
      }
      let reason = (failure ?? SagaError(.internalError, "no refund was attempted")).description
      try CompensationFailureRecord.updateReason(
        id: record.id, reasonCode: failure?.code.rawValue ?? "internal", reason: reason, in: db)
      if payment?.status == .compensationFailed {
        try PaymentView.setStatus(.compensationFailed, paymentId: paymentId, failureReason: reason, at: now, in: db)
      }
      try SagaStep.record(
        .compensationFailed, paymentId: paymentId, outcome: "retry by \(actor): still parked: \(reason)", at: now,
        in: db)
      return .stillParked(paymentId: paymentId, reason: reason)
    }
  }

  /// Closes the parked compensation of `paymentId` without a refund: the operator handled
  /// it outside sagad (refunded by hand, reversed the reward, decided nothing is owed).
  /// The payment stays `COMPENSATION_FAILED`, which is the truth about the saga, but no
  /// longer counts as open. Returns the closed record.
  /// - Throws: `invalid-argument` for an empty note, `compensation-not-found`,
  ///   `compensation-closed` when it was closed already.
  public func resolveCompensation(paymentId: Int64, note: String, by actor: String) async throws(PaymentsError)
    -> CompensationFailureRecord
  {
    let note = try Self.validated(note, "note")
    let actor = try Self.validated(actor, "operator name")
    let now = clock()
    return try await write { db in
      _ = try Self.openRecord(paymentId: paymentId, in: db)
      try CompensationFailureRecord.close(
        paymentId: paymentId, resolution: .resolved, by: actor, note: note, at: now, in: db)
      try SagaStep.record(
        .compensationResolved, paymentId: paymentId, outcome: "resolved by \(actor), no refund by sagad: \(note)",
        at: now, in: db)
      guard let record = try CompensationFailureRecord.latest(paymentId: paymentId, in: db) else {
        throw PaymentsError(.internalError, "the record of payment \(paymentId) vanished while resolving it")
      }
      return record
    }
  }

  /// The open record of `paymentId`, or the error that explains why there is none.
  private static func openRecord(paymentId: Int64, in db: some SQLConnection) throws -> CompensationFailureRecord {
    guard let record = try CompensationFailureRecord.latest(paymentId: paymentId, in: db) else {
      throw PaymentsError(.compensationNotFound, "payment \(paymentId) has no parked compensation")
    }
    guard !record.isResolved else {
      let when = record.resolvedAt.map { RFC3339Timestamp.format($0) } ?? "?"
      throw PaymentsError(
        .compensationClosed,
        "the compensation of payment \(paymentId) was closed (\(record.status)) by \(record.resolvedBy ?? "?")"
          + " at \(when)\(record.note.map { ": \($0)" } ?? ""); nothing to do")
    }
    return record
  }

  private static func validated(_ text: String, _ what: String) throws(PaymentsError) -> String {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !trimmed.isEmpty, trimmed.count <= maximumNoteLength else {
      throw PaymentsError(.invalidArgument, "the \(what) must be 1 to \(maximumNoteLength) characters")
    }
    return trimmed
  }
}
