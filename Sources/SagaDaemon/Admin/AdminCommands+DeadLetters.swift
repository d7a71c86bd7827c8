import AdminProtocol
import Foundation
import SagaCore
import SagaRuntime
import SagaStorage

/// `dlt list|show|replay|discard`: the dead-letter store (Docs/retries-and-dead-letters.md).
extension AdminCommands {
  func deadLetterCommand(_ request: AdminRequest) async throws -> AdminReply {
    guard let deadLetters else {
      throw AdminProtocolError(.roleNotRunning, "this sagad has no dead-letter store")
    }
    switch request.command {
    case .dltList: return try await dltList(request, deadLetters)
    case .dltShow: return try await dltShow(request, deadLetters)
    case .dltReplay: return try await dltReplay(request, deadLetters)
    default: return try await dltDiscard(request, deadLetters)
    }
  }

  private func dltList(_ request: AdminRequest, _ deadLetters: DeadLetterService) async throws -> AdminReply {
    var filter = try Self.deadLetterFilter(request)
    switch request.text("status") ?? "all" {
    case "all": filter.status = nil
    case let text:
      guard let status = DeadLetterStatus(rawValue: text) else {
        throw usage("status: '\(text.prefix(40))' is not pending, replayed, discarded or all", request)
      }
      filter.status = status
    }
    let limit = Int(request.integer("limit") ?? 50)
    guard (1...10_000).contains(limit) else { throw usage("limit: must be 1 to 10000", request) }
    let letters = try await deadLetters.list(filter, limit: limit, afterId: request.integer("after"))
    let nextAfter = letters.count == limit ? letters.last?.id : nil
    let summaries = letters.map(Self.summary)
    if request.json { return try Self.json(AdminJSON.DeadLetters(deadLetters: summaries, nextAfter: nextAfter)) }
    var out = ReplyBuilder()
    out.header(["ID", "STATUS", "ORIGINAL", "CLASS", "ATTEMPTS", "FIRST SEEN", "REPLAYS", "REASON"])
    for (letter, summary) in zip(letters, summaries) {
      out.row([
        String(letter.id), summary.status,
        letter.originalCoordinates ?? "\(letter.replayTopic) (\(letter.coordinates))",
        summary.failureClass ?? "-", summary.attempts.map(String.init) ?? "-", summary.firstSeenAt,
        String(summary.replayCount), String(summary.reason.prefix(120)),
      ])
    }
    var text = "\(letters.count) dead letter\(letters.count == 1 ? "" : "s")"
    if let nextAfter { text += "; more with --after \(nextAfter)" }
    return out.finish(.ok, text)
  }

  private func dltShow(_ request: AdminRequest, _ deadLetters: DeadLetterService) async throws -> AdminReply {
    let id = request.integer("id")!
    guard let letter = try await deadLetters.deadLetter(id: id) else {
      throw AdminProtocolError(.notFound, "dead letter \(id) does not exist")
    }
    let document = Self.detail(letter)
    if request.json { return try Self.json(document) }
    var out = ReplyBuilder()
    let fields: [(String, String?)] = [
      ("id", String(letter.id)), ("status", document.summary.status),
      ("dead letter", letter.coordinates), ("original", letter.originalCoordinates),
      ("original time", document.originalTimestamp), ("consumer group", letter.originalConsumerGroup),
      ("reason", letter.reason), ("reason code", letter.reasonCode), ("failure class", letter.failureClass),
      ("attempts", letter.attempts.map(String.init)), ("error type", letter.errorType), ("event id", letter.eventId),
      ("first seen", document.summary.firstSeenAt), ("replays", String(letter.replayCount)),
      ("last replayed", document.lastReplayedAt), ("discarded", document.discardedAt),
      ("discard note", letter.discardNote), ("replays to", letter.replayTopic), ("replay-of", letter.replayOf),
      ("key", document.key), ("value", document.value ?? document.valueBytes.map { "<\($0) bytes, not UTF-8>" }),
    ]
    for (name, value) in fields { out.row([name, value ?? "-"]) }
    out.header(["HEADER", "VALUE"])
    for header in letter.headers { out.row([header.name, header.displayValue]) }
    return out.finish()
  }

  private func dltReplay(_ request: AdminRequest, _ deadLetters: DeadLetterService) async throws -> AdminReply {
    // An id or --all, the filters only with --all (the catalogue's rules).
    try request.checkRules()
    let dryRun = request.flag("dry-run")
    let result: DeadLetterReplay
    if let id = request.integer("id") {
      result = try await deadLetters.replay(id: id, dryRun: dryRun)
    } else {
      result = try await deadLetters.replayAll(try Self.deadLetterFilter(request), dryRun: dryRun)
    }
    let entries = result.entries.map {
      AdminJSON.DeadLetterReplay.Entry(
        id: $0.id, topic: $0.topic, key: $0.key.flatMap { String(validating: $0, as: UTF8.self) },
        replayOf: $0.replayOf, previousReplays: $0.previousReplays, outcome: $0.outcome.rawValue)
    }
    let replayed = result.count(.replayed)
    var text: String
    if dryRun {
      text = "dry run: \(entries.count) dead letter\(entries.count == 1 ? "" : "s") would be replayed; nothing was sent"
    } else {
      text = "\(replayed) dead letter\(replayed == 1 ? "" : "s") replayed to the original topic"
    }
    if result.alreadyReplayed > 0 {
      text +=
        "; \(result.alreadyReplayed) had been replayed before: the consumers' inbox makes a replay a no-op"
        + " once an earlier one was processed"
    }
    var code = ReplyCode.ok
    if let error = result.error {
      code = .unavailable
      text = "replay stopped: \(error); \(replayed) replayed, \(result.count(.failed)) not confirmed (still pending)"
    }
    if request.json {
      return try Self.json(
        AdminJSON.DeadLetterReplay(
          dryRun: dryRun, replayed: replayed, failed: result.count(.failed), alreadyReplayed: result.alreadyReplayed,
          error: result.error, entries: entries), code: code, text: text)
    }
    var out = ReplyBuilder()
    out.header(["ID", "TOPIC", "KEY", "REPLAY OF", "REPLAYED BEFORE", "OUTCOME"])
    for entry in entries {
      out.row([
        String(entry.id), entry.topic, entry.key ?? "-", entry.replayOf, String(entry.previousReplays), entry.outcome,
      ])
    }
    return out.finish(code, text)
  }

  private func dltDiscard(_ request: AdminRequest, _ deadLetters: DeadLetterService) async throws -> AdminReply {
    let id = request.integer("id")!
    let letter = try await deadLetters.discard(id: id, note: request.text("note") ?? "")
    if request.json { return try Self.json(Self.detail(letter)) }
    return .final(.ok, "dead letter \(id) discarded: \(letter.discardNote ?? "")")
  }

  // MARK: Conversions

  private func usage(_ message: String, _ request: AdminRequest) -> AdminProtocolError {
    AdminProtocolError(.usage, "\(message); usage: \(request.command.usage)")
  }

  /// `--topic`, `--reason`, `--since` of a list or a `replay --all`.
  static func deadLetterFilter(_ request: AdminRequest, now: Date = Date()) throws -> DeadLetterFilter {
    var filter = DeadLetterFilter(topic: request.text("topic"), reason: request.text("reason"))
    if let since = request.text("since") {
      guard let date = parseSince(since, now: now) else {
        throw AdminProtocolError(
          .usage,
          "since: '\(since.prefix(40))' is neither an RFC 3339 time nor an age like 90s, 30m, 2h, 7d; usage: "
            + request.command.usage)
      }
      filter.since = date
    }
    return filter
  }

  /// An RFC 3339 time, or an age (`90s`, `30m`, `2h`, `7d`) before `now`.
  static func parseSince(_ text: String, now: Date) -> Date? {
    if let milliseconds = RFC3339Timestamp.parse(text) { return RFC3339Timestamp.date(milliseconds: milliseconds) }
    let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
    guard let unit = text.last.flatMap({ units[$0] }), let amount = Double(text.dropLast()), amount >= 0,
      amount.isFinite
    else { return nil }
    return now.addingTimeInterval(-amount * unit)
  }

  static func summary(_ letter: StoredDeadLetter) -> AdminJSON.DeadLetterSummary {
    AdminJSON.DeadLetterSummary(
      id: letter.id, status: letter.status.rawValue, topic: letter.topic, partition: letter.partition,
      offset: letter.offset, originalTopic: letter.originalTopic, originalPartition: letter.originalPartition,
      originalOffset: letter.originalOffset, reason: letter.reason, reasonCode: letter.reasonCode,
      failureClass: letter.failureClass, attempts: letter.attempts,
      firstSeenAt: RFC3339Timestamp.format(letter.firstSeenAt), replayCount: letter.replayCount,
      origin: letter.origin)
  }

  static func detail(_ letter: StoredDeadLetter) -> AdminJSON.DeadLetter {
    AdminJSON.DeadLetter(
      summary: summary(letter),
      originalTimestamp: letter.originalTimestampMilliseconds.map { RFC3339Timestamp.format(milliseconds: $0) },
      originalConsumerGroup: letter.originalConsumerGroup, errorType: letter.errorType, eventId: letter.eventId,
      key: letter.key.flatMap { String(validating: $0, as: UTF8.self) },
      value: letter.value.flatMap { String(validating: $0, as: UTF8.self) }, valueBytes: letter.value?.count,
      headers: letter.headers.map { AdminJSON.DeadLetterHeader(name: $0.name, value: $0.displayValue) },
      replayTopic: letter.replayTopic, replayOf: letter.replayOf,
      lastReplayedAt: letter.lastReplayedAt.map(RFC3339Timestamp.format),
      discardedAt:
        letter.discardedAt.map(RFC3339Timestamp.format), discardNote: letter.discardNote)
  }
}
