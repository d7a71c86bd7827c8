import AdminProtocol
import Foundation
import SagaCore
import SagaRuntime
import SagaStorage

/// `outbox list|show|discard`: the services' outbox, read and cleared through their relays
/// (Docs/retries-and-dead-letters.md, "Records that cannot be sent").
extension AdminCommands {
  func outboxCommand(_ request: AdminRequest) async throws -> AdminReply {
    guard !relays.isEmpty else { throw AdminProtocolError(.roleNotRunning, "this sagad runs no outbox relay") }
    switch request.command {
    case .outboxList: return try await outboxList(request)
    case .outboxShow: return try await outboxShow(request)
    default: return try await outboxDiscard(request)
    }
  }

  private func relay(named name: String) throws -> OutboxRelay {
    guard let relay = relays.first(where: { $0.name == name }) else {
      let known = relays.map(\.name).joined(separator: ", ")
      throw AdminProtocolError(.roleNotRunning, "no '\(name.prefix(40))' outbox here (this sagad has: \(known))")
    }
    return relay
  }

  private func outboxList(_ request: AdminRequest) async throws -> AdminReply {
    let chosen = try request.text("service").map { [try relay(named: $0)] } ?? relays
    let limit = Int(request.integer("limit") ?? 50)
    guard (1...10_000).contains(limit) else {
      throw AdminProtocolError(.usage, "limit: must be 1 to 10000; usage: \(request.command.usage)")
    }
    var rows: [AdminJSON.OutboxRow] = []
    var nextAfter: Int64?
    for relay in chosen {
      let entries = try await relay.entries(
        includeDone: request.flag("all"), limit: limit, after: request.integer("after") ?? 0)
      rows += entries.map { Self.outboxRow($0, service: relay.name) }
      if chosen.count == 1, entries.count == limit { nextAfter = entries.last?.id }
    }
    if request.json { return try Self.json(AdminJSON.OutboxRows(rows: rows, nextAfter: nextAfter)) }
    var out = ReplyBuilder()
    out.header(["SERVICE", "ID", "STATE", "TOPIC", "KEY", "BYTES", "CREATED", "ATTEMPTS", "LAST ERROR / CLOSED"])
    for row in rows {
      out.row([
        row.service, String(row.id), row.state, row.topic, row.key ?? "-", String(row.bytes), row.createdAt,
        String(row.attempts), String((row.closedReason ?? row.lastError ?? "-").prefix(120)),
      ])
    }
    let pending = rows.filter { $0.state == OutboxEntry.State.pending.rawValue }.count
    var text = "\(rows.count) row\(rows.count == 1 ? "" : "s"), \(pending) pending"
    if let nextAfter { text += "; more with --after \(nextAfter)" }
    return out.finish(.ok, text)
  }

  private func outboxShow(_ request: AdminRequest) async throws -> AdminReply {
    let relay = try relay(named: request.text("service") ?? "")
    let id = request.integer("id")!
    guard let entry = try await relay.entry(id: id) else {
      throw OutboxError(.notFound, "\(relay.name) outbox row \(id) does not exist (never written, or purged once sent)")
    }
    return try Self.outboxDetail(entry, service: relay.name, deadLetterId: nil, request: request, text: nil)
  }

  private func outboxDiscard(_ request: AdminRequest) async throws -> AdminReply {
    let relay = try relay(named: request.text("service") ?? "")
    let id = request.integer("id")!
    let (entry, letter) = try await relay.discard(id: id, note: request.text("note") ?? "")
    return try Self.outboxDetail(
      entry, service: relay.name, deadLetterId: letter.id, request: request,
      text: "\(relay.name) outbox row \(id) discarded; kept as dead letter \(letter.id) (`dlt show \(letter.id)`)")
  }

  private static func outboxDetail(
    _ entry: OutboxEntry, service: String, deadLetterId: Int64?, request: AdminRequest, text: String?
  ) throws -> AdminReply {
    let row = outboxRow(entry, service: service)
    let headers = entry.record.headers.map { AdminJSON.DeadLetterHeader(name: $0.name, value: $0.displayValue) }
    let value = String(validating: entry.record.payload, as: UTF8.self)
    if request.json {
      return try json(
        AdminJSON.OutboxRowDetail(row: row, headers: headers, value: value, deadLetterId: deadLetterId), code: .ok,
        text: text ?? "ok")
    }
    var out = ReplyBuilder()
    let fields: [(String, String?)] = [
      ("service", service), ("id", String(row.id)), ("state", row.state), ("topic", row.topic), ("key", row.key),
      ("bytes", String(row.bytes)), ("created", row.createdAt), ("attempts", String(row.attempts)),
      ("last error", row.lastError), ("sent", row.sentAt), ("closed", row.closedReason),
      ("dead letter", deadLetterId.map(String.init)),
      ("value", value.map { String($0.prefix(2_000)) } ?? "<\(row.bytes) bytes, not UTF-8>"),
    ]
    for (name, value) in fields { out.row([name, value ?? "-"]) }
    out.header(["HEADER", "VALUE"])
    for header in headers { out.row([header.name, header.value]) }
    return out.finish(.ok, text ?? "ok")
  }

  static func outboxRow(_ entry: OutboxEntry, service: String) -> AdminJSON.OutboxRow {
    AdminJSON.OutboxRow(
      service: service, id: entry.id, state: entry.state.rawValue, topic: entry.record.topic,
      key: entry.record.key, bytes: entry.record.payload.count,
      createdAt: RFC3339Timestamp.format(entry.record.createdAt), attempts: entry.record.attempts,
      lastError: entry.lastError, sentAt: entry.sentAt.map(RFC3339Timestamp.format), closedReason: entry.closedReason)
  }
}
