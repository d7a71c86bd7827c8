/// Running counts of one relay, for `status` and metrics.
public struct RelayStatistics: Sendable, Equatable {
  public var sent = 0
  public var failedAttempts = 0
  /// Rows that could never be sent, closed and stored in the dead-letter store instead.
  public var deadLettered = 0
  public var lastError: String?
  /// Whether this instance holds the relay's lease (PostgreSQL, several instances); nil
  /// without one: the relay always publishes.
  public var leaseHeld: Bool?
  /// Rounds of rows read from the outbox, and rounds of rows their writers handed over
  /// (`OutboxHandoff`), which the relay published without reading them.
  public var readRounds = 0
  public var handedRounds = 0
  /// Of the rounds read, those that read the rows a standby's announcement named, by id.
  public var announcedRounds = 0
  /// Whether the lease holder's relay hears the standbys' announced commits now (PostgreSQL,
  /// several instances), and how many it heard: each woke it to read their rows (by id when the
  /// announcement named them, else from the oldest unsent row).
  public var listening = false
  public var announcementsHeard = 0
}
