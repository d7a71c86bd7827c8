import Foundation
public import Logging
public import SagaCore
public import SagaKafka
public import SagaStorage

/// The operators' side of the dead-letter store (issue 4 item 2): list, show, replay one
/// or all matching a filter (dry run first, rate-limited), discard with a note.
///
/// A replay publishes the dead letter's original key, value and headers to its original
/// topic, without the dead-letter bookkeeping headers and with `sagad-replay-of`, through
/// an idempotent producer; it is marked replayed only once the broker confirmed it. The
/// consumers' inbox keys the message on its `eventId` (or on `sagad-replay-of` when it has
/// none), so replaying one dead letter twice can never apply it twice.
public final class DeadLetterService: Sendable {
  public let store: DeadLetterStore
  private let producer: KafkaProducer?
  private let pacer: ReplayPacer
  /// What replays are paced on; its wall time dates replays and discards.
  private let clock: SagaClock
  private let logger: Logger

  /// Dead letters read from the store per round of `replayAll`; each round's deliveries
  /// are confirmed and marked before the next is read.
  static let replayPage = 100

  /// - Parameters:
  ///   - producer: an idempotent producer for replays; nil allows everything but a real
  ///     (not dry-run) replay.
  ///   - clock: what the replay pacing waits on (tests advance a manual one).
  public init(
    store: DeadLetterStore, producer: KafkaProducer?, settings: DeadLetterSettings = DeadLetterSettings(),
    clock: SagaClock = .continuous, logger: Logger
  ) {
    self.store = store
    self.producer = producer
    self.pacer = ReplayPacer(interval: settings.replayInterval, clock: clock)
    self.clock = clock
    var logger = logger
    logger[metadataKey: "component"] = "dead-letters"
    self.logger = logger
  }

  // MARK: Reading

  public func list(_ filter: DeadLetterFilter = DeadLetterFilter(), limit: Int = 50, afterId: Int64? = nil)
    async throws -> [StoredDeadLetter]
  {
    try await store.list(filter, limit: limit, afterId: afterId)
  }

  public func deadLetter(id: Int64) async throws -> StoredDeadLetter? {
    try await store.deadLetter(id: id)
  }

  /// Pending dead letters per original topic.
  public func pendingCounts() async throws -> [String: Int] {
    try await store.pendingCounts()
  }

  // MARK: Replay

  /// Replays dead letter `id` (or, with `dryRun`, says what would be sent). A letter
  /// replayed before is replayed again, and the entry says so; a discarded one is refused.
  /// - Throws: ``DeadLetterError`` (`notFound`, `discarded`, `replayUnavailable`).
  public func replay(id: Int64, dryRun: Bool) async throws -> DeadLetterReplay {
    guard let letter = try await store.deadLetter(id: id) else {
      throw DeadLetterError(.notFound, "dead letter \(id) does not exist")
    }
    guard letter.status != .discarded else {
      throw DeadLetterError(
        .discarded, "dead letter \(id) was discarded (\(letter.discardNote ?? "no note")); it is not replayed")
    }
    return try await replay([letter], dryRun: dryRun)
  }

  /// Replays every pending dead letter matching `filter` (its status is ignored: replayed
  /// and discarded letters are never part of `--all`), in id order, at most `limit`.
  public func replayAll(_ filter: DeadLetterFilter, dryRun: Bool, limit: Int? = nil) async throws
    -> DeadLetterReplay
  {
    var filter = filter
    filter.status = .pending
    var result = DeadLetterReplay(dryRun: dryRun)
    var after: Int64 = 0
    while limit.map({ result.entries.count < $0 }) ?? true {
      let page = min(Self.replayPage, (limit ?? Int.max) - result.entries.count)
      let letters = try await store.list(filter, limit: page, afterId: after)
      guard let last = letters.last else { break }
      after = last.id
      let round = try await replay(letters, dryRun: dryRun)
      result.entries += round.entries
      if let error = round.error {
        result.error = error
        break
      }
      if letters.count < page { break }
    }
    return result
  }

  private func replay(_ letters: [StoredDeadLetter], dryRun: Bool) async throws -> DeadLetterReplay {
    func entry(_ letter: StoredDeadLetter, _ outcome: DeadLetterReplay.Outcome) -> DeadLetterReplay.Entry {
      DeadLetterReplay.Entry(
        id: letter.id, topic: letter.replayTopic, key: letter.key, replayOf: letter.replayOf,
        previousReplays: letter.replayCount, outcome: outcome)
    }
    if dryRun { return DeadLetterReplay(dryRun: true, entries: letters.map { entry($0, .wouldReplay) }) }
    guard let producer else {
      throw DeadLetterError(.replayUnavailable, "this sagad has no Kafka producer for replays")
    }
    var tickets: [(StoredDeadLetter, KafkaDeliveryTicket)] = []
    var result = DeadLetterReplay(dryRun: false)
    do {
      for letter in letters {
        try await pacer.waitForSlot()
        tickets.append((letter, try await producer.send(Self.message(for: letter))))
      }
    } catch {
      result.error = "\(error)"
    }
    var replayed: [Int64] = []
    for (letter, ticket) in tickets {
      let report = await ticket.report
      if report.isPersisted {
        // Also after an earlier failure of this round: it is still a replay that happened.
        replayed.append(letter.id)
        result.entries.append(entry(letter, .replayed))
      } else {
        result.error = result.error ?? "\(report.error.map { "\($0)" } ?? "\(report.status)")"
        result.entries.append(entry(letter, .failed))
      }
    }
    for letter in letters.dropFirst(tickets.count) { result.entries.append(entry(letter, .notAttempted)) }
    try await store.markReplayed(ids: replayed, at: clock.wallTime)
    logger.notice(
      "dead letters replayed",
      metadata: [
        "replayed": "\(replayed.count)", "failed": "\(result.count(.failed))",
        "ids": "\(replayed.prefix(20).map(String.init).joined(separator: ","))",
        "error": "\(result.error ?? "-")",
      ])
    return result
  }

  /// The record a replay publishes.
  static func message(for letter: StoredDeadLetter) -> KafkaProducerMessage {
    KafkaProducerMessage(
      topic: letter.replayTopic, key: letter.key, value: letter.value,
      headers: letter.replayHeaders)
  }

  // MARK: Discard

  /// Sets dead letter `id` aside with `note` (who and why, for the next operator).
  /// - Throws: ``DeadLetterError`` (`invalidRequest` for an empty note, `notFound`).
  public func discard(id: Int64, note: String) async throws -> StoredDeadLetter {
    let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !note.isEmpty else { throw DeadLetterError(.invalidRequest, "a discard needs a note saying why") }
    guard let letter = try await store.discard(id: id, note: note, at: clock.wallTime) else {
      throw DeadLetterError(.notFound, "dead letter \(id) does not exist")
    }
    logger.notice("dead letter discarded", metadata: ["id": "\(id)", "note": "\(note)"])
    return letter
  }
}
