import AdminProtocol
import Payments
import SagaCore

/// The recovery commands of the payments role: parked compensations (list, retry,
/// resolve) and the sagas the stuck-saga sweeper reported.
extension AdminCommands {
  func compensationsOrStuck(_ request: AdminRequest) async throws -> AdminReply {
    guard let payments else { throw Self.roleMissing("payments") }
    switch request.command {
    case .compensationsRetry: return try await compensationsRetry(request, payments)
    case .compensationsResolve: return try await compensationsResolve(request, payments)
    case .stuck: return try await stuck(request, payments)
    default: return try await compensationsList(request, payments)
    }
  }

  private func compensationsList(_ request: AdminRequest, _ payments: PaymentsService) async throws -> AdminReply {
    let all = request.flag("all")
    let records = try await payments.compensationFailures(unresolvedOnly: !all)
    let documents = records.map(Self.document)
    if request.json { return try Self.json(AdminJSON.Compensations(compensations: documents)) }
    var out = ReplyBuilder()
    out.header(["PAYMENT", "USER", "AMOUNT", "STATUS", "SINCE", "REASON", "NOTE"])
    for record in documents {
      let note = record.note.map { "\($0) (\(record.resolvedBy ?? "?"), \(record.resolvedAt ?? "?"))" }
      out.row([
        String(record.paymentId), String(record.userId), String(record.amount), record.status, record.since,
        record.reason, note ?? "-",
      ])
    }
    let open = records.filter { !$0.isResolved }.count
    let what = all ? "\(records.count) compensations, \(open) open" : "\(open) open compensations"
    return out.finish(.ok, open == 0 ? what : what + "; `compensations retry` or `compensations resolve` each")
  }

  private func compensationsRetry(_ request: AdminRequest, _ payments: PaymentsService) async throws -> AdminReply {
    let id = request.integer("payment")!
    let result = try await payments.retryCompensation(paymentId: id, by: request.text("by") ?? "admin socket")
    let document: AdminJSON.CompensationRetry
    let code: ReplyCode
    let text: String
    switch result {
    case .refunded(_, let amount, let balance):
      document = AdminJSON.CompensationRetry(paymentId: id, result: result.result, amount: amount, reason: nil)
      (code, text) = (.ok, "payment \(id) refunded: \(amount) KRW back (wallet \(balance) KRW), compensation closed")
    case .alreadyRefunded(_, let amount):
      document = AdminJSON.CompensationRetry(paymentId: id, result: result.result, amount: amount, reason: nil)
      (code, text) = (.ok, "payment \(id) was already refunded (\(amount) KRW): nothing done")
    case .stillParked(_, let reason):
      document = AdminJSON.CompensationRetry(paymentId: id, result: result.result, amount: nil, reason: reason)
      (code, text) = (.refused, "payment \(id) is still parked: \(reason)")
    }
    if request.json { return try Self.json(document, code: code, text: text) }
    return .final(code, text)
  }

  private func compensationsResolve(_ request: AdminRequest, _ payments: PaymentsService) async throws -> AdminReply {
    let id = request.integer("payment")!
    let record = try await payments.resolveCompensation(
      paymentId: id, note: request.text("note") ?? "", by: request.text("by") ?? "admin socket")
    if request.json { return try Self.json(Self.document(record)) }
    return .final(
      .ok,
      "compensation of payment \(id) resolved by \(record.resolvedBy ?? "?"); the payment stays"
        + " COMPENSATION_FAILED and no longer counts as open")
  }

  private func stuck(_ request: AdminRequest, _ payments: PaymentsService) async throws -> AdminReply {
    let sagas = try await payments.stuckSagas(includeRepublishing: request.flag("all"))
    let documents = sagas.map { saga in
      AdminJSON.StuckSaga(
        paymentId: saga.paymentId, userId: saga.userId, amount: saga.amount, status: saga.status.rawValue,
        state: saga.isOverLimit ? "reported" : "republishing", republished: saga.republishCount,
        lastRepublishedAt: saga.lastRepublishedAt.map(RFC3339Timestamp.format),
        reportedAt: saga.reportedAt.map(RFC3339Timestamp.format), since: RFC3339Timestamp.format(saga.updatedAt),
        correlationId: saga.correlationId, reason: saga.reason)
    }
    if request.json { return try Self.json(AdminJSON.Stuck(sagas: documents)) }
    var out = ReplyBuilder()
    out.header(["PAYMENT", "USER", "AMOUNT", "STATUS", "STATE", "REPUBLISHED", "SINCE", "CORRELATION ID", "REASON"])
    for saga in documents {
      out.row([
        String(saga.paymentId), String(saga.userId), String(saga.amount), saga.status, saga.state,
        String(saga.republished), saga.since, saga.correlationId, saga.reason ?? "-",
      ])
    }
    let reported = sagas.filter(\.isOverLimit).count
    return out.finish(.ok, "\(reported) stuck sagas reported; `saga <paymentId>` shows each timeline")
  }

  private static func document(_ record: CompensationFailureRecord) -> AdminJSON.Compensation {
    AdminJSON.Compensation(
      paymentId: record.paymentId, userId: record.userId, amount: record.refundAmount, reasonCode: record.reasonCode,
      reason: record.reason, since: RFC3339Timestamp.format(record.createdAt), status: record.status,
      resolvedAt: record.resolvedAt.map(RFC3339Timestamp.format), resolvedBy: record.resolvedBy, note: record.note)
  }
}
