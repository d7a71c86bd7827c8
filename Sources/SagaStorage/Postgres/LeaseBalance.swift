/// Whether a lease holder should hand its lease to a less busy instance (Docs/storage-engines.md,
/// "Leases are spread"), decided from one snapshot of the database's advisory locks.
///
/// Every instance that wants a lease holds a shared *candidate* lock for it on the lease's
/// session, so the server's `pg_locks` shows both who holds each lease and who could take it.
/// An instance holding at least two leases more than a candidate of one of them hands that
/// lease over: each hand-over lowers the spread, so the instances settle with at most one
/// lease between any holder and its candidates, and stay there while they all run.
struct LeaseBalance: Sendable, Equatable {
  /// What one advisory lock of an instance's session means to the leases.
  struct Lock: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
      /// The lease itself: `pg_try_advisory_lock(hashtext(key))`, exclusive, one 64-bit key.
      case held
      /// Willing to hold it: `pg_try_advisory_lock_shared(hashtext(key), candidateTag)`.
      case candidate
    }

    var instance: String
    /// `hashtext` of the lease's key text (``PostgresLease/key(_:)``).
    var lease: Int32
    var kind: Kind

    init(instance: String, lease: Int32, kind: Kind) {
      self.instance = instance
      self.lease = lease
      self.kind = kind
    }

    /// A `pg_locks` row of an advisory lock (granted, in this database), or nil when it is
    /// not a lease's: the server stores a 64-bit key as two oids (high, low; `objsubid` 1)
    /// and a pair of 32-bit keys as the pair (`objsubid` 2).
    init?(instance: String, classid: Int64, objid: Int64, objsubid: Int, exclusive: Bool) {
      switch (objsubid, exclusive) {
      case (1, true):
        let key = (classid << 32) | objid
        let lease = Int32(truncatingIfNeeded: key)
        // `hashtext` is 32 bits: a wider key is somebody else's lock.
        guard Int64(lease) == key else { return nil }
        self.init(instance: instance, lease: lease, kind: .held)
      case (2, false):
        guard objid == Int64(UInt32(bitPattern: LeaseBalance.candidateTag)) else { return nil }
        self.init(instance: instance, lease: Int32(truncatingIfNeeded: classid), kind: .candidate)
      default:
        return nil
      }
    }
  }

  /// The second key of a candidate lock ("saga"), so that another program's pair of keys
  /// seldom reads as a candidacy.
  static let candidateTag: Int32 = 0x7361_6761

  var locks: [Lock]

  /// The instance `me` should hand `lease` to, or nil to keep it.
  ///
  /// Only one lease moves at a time: none while some lease with candidates has no holder (a
  /// hand-over under way, or a holder gone), and of the leases `me` could hand over, only the
  /// one with the lowest key, so that two of its leases deciding at once do not both go.
  func successor(of lease: Int32, me: String) -> String? {
    var holders: [Int32: String] = [:]
    var candidates: [Int32: Set<String>] = [:]
    var load: [String: Int] = [:]
    for lock in locks {
      switch lock.kind {
      case .held:
        holders[lock.lease] = lock.instance
        load[lock.instance, default: 0] += 1
      case .candidate:
        candidates[lock.lease, default: []].insert(lock.instance)
      }
    }
    guard holders[lease] == me, candidates.keys.allSatisfy({ holders[$0] != nil }) else { return nil }
    let mine = load[me, default: 0]
    func lightest(for lease: Int32) -> String? {
      candidates[lease, default: []]
        .filter { $0 != me && load[$0, default: 0] <= mine - 2 }
        .min { (load[$0, default: 0], $0) < (load[$1, default: 0], $1) }
    }
    let movable = holders.filter { $0.value == me && lightest(for: $0.key) != nil }.keys
    guard movable.min() == lease else { return nil }
    return lightest(for: lease)
  }
}
