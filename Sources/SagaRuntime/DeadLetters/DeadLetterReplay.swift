/// What a replay did, or would do in a dry run: one entry per dead letter, in order.
public struct DeadLetterReplay: Sendable, Hashable {
  public enum Outcome: String, Sendable, Hashable {
    /// Dry run: this message would be published.
    case wouldReplay = "would-replay"
    /// Published to its original topic; the broker confirmed it.
    case replayed
    /// Published but not confirmed (see `error`); still pending in the store.
    case failed
    /// Not attempted: an earlier message of the same replay was not confirmed.
    case notAttempted = "not-attempted"
  }

  public struct Entry: Sendable, Hashable {
    public var id: Int64
    /// Where it goes: the original topic.
    public var topic: String
    public var key: [UInt8]?
    /// The `sagad-replay-of` header it carries.
    public var replayOf: String
    /// Replays confirmed before this one. Above zero, the consumers' inbox makes this
    /// replay a no-op if an earlier one was processed.
    public var previousReplays: Int
    public var outcome: Outcome

    public init(id: Int64, topic: String, key: [UInt8]?, replayOf: String, previousReplays: Int, outcome: Outcome) {
      self.id = id
      self.topic = topic
      self.key = key
      self.replayOf = replayOf
      self.previousReplays = previousReplays
      self.outcome = outcome
    }
  }

  public var dryRun: Bool
  public var entries: [Entry]
  /// The delivery error that stopped the replay, if one did.
  public var error: String?

  public init(dryRun: Bool, entries: [Entry] = [], error: String? = nil) {
    self.dryRun = dryRun
    self.entries = entries
    self.error = error
  }

  public func count(_ outcome: Outcome) -> Int { entries.count { $0.outcome == outcome } }

  /// Entries that had been replayed before.
  public var alreadyReplayed: Int { entries.count { $0.previousReplays > 0 } }
}
