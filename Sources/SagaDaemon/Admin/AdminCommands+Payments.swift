import AdminProtocol
import Foundation
import Payments
import Points
import SagaCore

/// The business commands: users, wallets and payments (`saga` and `verify` are in
/// AdminCommands+Saga.swift).
extension AdminCommands {
  func userAdd(_ request: AdminRequest) async throws -> AdminReply {
    let id = request.integer("id")!
    let enroll = !request.flag("no-points")
    if payments == nil, request.integer("balance") != nil { throw Self.roleMissing("payments") }
    if payments == nil, !enroll || points == nil { throw Self.roleMissing("payments") }
    var wallet: Int64 = 0
    var done: [String] = []
    if let payments {
      wallet = request.integer("balance") ?? 0
      try await payments.addUser(id: id, initialBalance: wallet)
      done.append("wallet \(wallet) KRW")
    }
    var enrolled = false
    if enroll, let points {
      do {
        try await points.enroll(userId: id)
      } catch {
        // The wallet exists now; say so rather than let a retry hit `user-exists` blind.
        let failed = Self.reply(for: error)
        let prefix = done.isEmpty ? "" : "user \(id) was created with \(done.joined()), but "
        return .final(failed.code, prefix + "enrolling in Points failed: \(failed.text)")
      }
      enrolled = true
      done.append("enrolled in Points")
    } else if enroll {
      done.append("not enrolled in Points (this sagad does not run points)")
    } else {
      done.append("not enrolled in Points")
    }
    if request.json { return try Self.json(AdminJSON.UserAdded(userId: id, wallet: wallet, enrolled: enrolled)) }
    return .final(.ok, "user \(id) added: \(done.joined(separator: ", "))")
  }

  func charge(_ request: AdminRequest) async throws -> AdminReply {
    guard let payments else { throw Self.roleMissing("payments") }
    let user = request.integer("user")!
    let amount = request.integer("amount")!
    let wallet = try await payments.charge(userId: user, amount: amount)
    if request.json { return try Self.json(AdminJSON.Charged(userId: user, wallet: wallet)) }
    return .final(.ok, "user \(user) charged \(amount) KRW: wallet \(wallet) KRW")
  }

  func balance(_ request: AdminRequest) async throws -> AdminReply {
    let user = request.integer("user")!
    let wallet = try await payments?.balance(userId: user)
    let points = try await points?.balance(userId: user)
    if payments == nil, points == nil {
      throw AdminProtocolError(.notFound, "user \(user) has no point account")
    }
    if request.json { return try Self.json(AdminJSON.Balance(userId: user, wallet: wallet, points: points)) }
    var out = ReplyBuilder()
    out.header(["USER", "WALLET KRW", "POINTS"])
    out.row([
      String(user), wallet.map(String.init) ?? "-",
      points.map(String.init) ?? (self.points == nil ? "-" : "not enrolled"),
    ])
    return out.finish()
  }

  func payReply(_ request: AdminRequest) async throws -> AdminReply {
    var trace: TraceContext?
    if let traceparent = request.text("traceparent") {
      guard let parsed = TraceContext(traceparent: traceparent) else {
        throw AdminProtocolError(
          .usage, "traceparent: '\(traceparent.prefix(60))' is not a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)")
      }
      trace = parsed
    }
    let result = try await pay(
      PayRequest(
        userId: request.integer("user")!, scheduleId: request.integer("schedule")!, seat: request.text("seat"),
        amount: request.integer("amount")!, trace: trace))
    if request.json {
      return try Self.json(
        AdminJSON.Paid(
          paymentId: result.paymentId, reservationId: result.reservationId, amount: result.amount,
          status: result.status.rawValue, duplicate: result.duplicate, correlationId: result.correlationId))
    }
    var out = ReplyBuilder()
    out.header(["PAYMENT", "RESERVATION", "AMOUNT", "STATUS", "DUPLICATE", "CORRELATION ID"])
    out.row(
      [result.paymentId, result.reservationId, result.amount].map(String.init) + [
        result.status.rawValue, result.duplicate ? "yes" : "no", result.correlationId,
      ])
    let note =
      result.duplicate
      ? "payment \(result.paymentId) already existed for this user and schedule: nothing was charged"
      : "payment \(result.paymentId) accepted; `saga \(result.paymentId)` follows it"
    return out.finish(.ok, note)
  }

  func payment(_ request: AdminRequest) async throws -> AdminReply {
    guard let payments else { throw Self.roleMissing("payments") }
    let id = request.integer("id")!
    guard let view = try await payments.payment(id: id) else {
      throw AdminProtocolError(.notFound, "payment \(id) does not exist")
    }
    let document = Self.document(view)
    if request.json { return try Self.json(document) }
    var out = ReplyBuilder()
    let fields: [(String, String?)] = [
      ("payment", String(document.paymentId)), ("user", String(document.userId)),
      ("reservation", "\(document.reservationId) (\(document.reservationStatus))"),
      ("schedule", String(document.scheduleId)), ("seat", document.seat), ("amount", "\(document.amount) KRW"),
      ("status", document.status), ("reward", document.rewardAmount.map { "\($0) points" }),
      ("refunded", document.refundedAmount.map { "\($0) KRW" }), ("failure", document.failureReason),
      ("correlation id", document.correlationId), ("created", document.createdAt), ("updated", document.updatedAt),
    ]
    for (name, value) in fields { out.row([name, value ?? "-"]) }
    return out.finish()
  }

  /// `payments --from A [--to B]`: every payment of the range in one read, so that a poller
  /// (`sagactl load`) asks once per 1,000 sagas rather than once per saga.
  func paymentsReply(_ request: AdminRequest) async throws -> AdminReply {
    guard let payments else { throw Self.roleMissing("payments") }
    let from = request.integer("from")!
    let (last, overflow) = from.addingReportingOverflow(Self.paymentsRangeLimit - 1)
    let to = request.integer("to") ?? (overflow ? Int64.max : last)
    guard to >= from else { throw AdminProtocolError(.usage, "--to \(to) is below --from \(from)") }
    guard to - from < Self.paymentsRangeLimit else {
      throw AdminProtocolError(
        .usage, "--from \(from) --to \(to) spans \(to - from + 1) ids; at most \(Self.paymentsRangeLimit) per request")
    }
    let documents = try await payments.payments(ids: from...to).map(Self.document)
    if request.json {
      // Each document by the flat encoder (JSONEncoder's bytes at a fraction of its CPU: a
      // poller asks for a thousand at a time, and JSONEncoder took a third of a second for
      // 20,000, beside the sagas still running).
      var bytes = Array(#"{"payments":["#.utf8)
      for (index, document) in documents.enumerated() {
        if index > 0 { bytes.append(UInt8(ascii: ",")) }
        bytes += try FlatJSONEncoder.encode(document) ?? Array(Self.encoder.encode(document))
      }
      bytes += Array("]}".utf8)
      var out = ReplyBuilder()
      out.json(String(decoding: bytes, as: UTF8.self))
      return out.finish()
    }
    var out = ReplyBuilder()
    out.header(["PAYMENT", "USER", "AMOUNT", "STATUS", "REWARD", "REFUNDED", "UPDATED"])
    for payment in documents {
      out.row(
        [
          String(payment.paymentId), String(payment.userId), String(payment.amount), payment.status,
          payment.rewardAmount.map(String.init) ?? "-", payment.refundedAmount.map(String.init) ?? "-",
          payment.updatedAt,
        ])
    }
    return out.finish(.ok, "\(documents.count) payments between \(from) and \(to)")
  }

  /// The widest id range one `payments` request may ask for: its reply stays a few hundred KB.
  static let paymentsRangeLimit: Int64 = 1_000

  private static func document(_ view: PaymentView) -> AdminJSON.Payment {
    AdminJSON.Payment(
      paymentId: view.paymentId, userId: view.userId, reservationId: view.reservationId, scheduleId: view.scheduleId,
      seat: view.seat, amount: view.amount, status: view.status.rawValue,
      reservationStatus: view.reservationStatus.rawValue, rewardAmount: view.rewardAmount,
      refundedAmount: view.refundedAmount, failureReason: view.failureReason, correlationId: view.correlationId,
      createdAt: RFC3339Timestamp.format(view.createdAt), updatedAt: RFC3339Timestamp.format(view.updatedAt))
  }
}
