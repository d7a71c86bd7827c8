/// How `pay`'s group commit has batched so far (see `PaymentsService.payStatistics`):
/// requests per group is the number of payments one fsync paid for.
public struct PayGroupStatistics: Sendable, Hashable {
  /// Committed write transactions that ran `pay` requests.
  public var groups = 0
  /// Requests answered by those transactions (new payments, duplicates and refusals).
  public var requests = 0
  /// The most requests one transaction carried.
  public var largestGroup = 0
  /// Groups whose transaction failed on a non-business error and were re-run one
  /// request per transaction to isolate it.
  public var splitGroups = 0
  /// Groups committed as one statement without locks (PostgreSQL, each user once in the group).
  public var unlockedGroups = 0
  /// Groups whose write of one statement failed (a wallet or key changed since its read, a
  /// request that needed a read after the group's writes, the server's failure) and ran again
  /// under locks.
  public var unlockedFallbacks = 0
  /// Times the writer waited for the group window (`payments.group_commit_window`) before
  /// taking the next group, because requests were queued and the window had not passed.
  public var windowWaits = 0
  /// Requests waiting for the next group right now.
  public var queued = 0
  /// Requests in the group being committed right now (taken from the queue, not yet answered).
  public var inFlight = 0

  public init() {}
}
