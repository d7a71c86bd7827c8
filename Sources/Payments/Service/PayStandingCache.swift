import Synchronization

/// What a `pay` group on PostgreSQL would otherwise read before its writes
/// (`Wallet.payStandings`), kept from the groups before it, so that a group whose users are
/// known goes to the server once: its writes with the `COMMIT`, no read first.
///
/// Safe for the same reason the unlocked group's read is: the write holds only over what it
/// assumed. A balance is written over the one it was computed from or the CHECK refuses
/// (`Wallet.post`), and a payment's key and a seat are unique, so a wallet moved behind the
/// cache (a refund, a charge, another instance), a repeated key or a taken seat fails the
/// statement with nothing written; the group then reads afresh. A refusal is never decided
/// here: the cache only answers for a group every request of which it would let through.
///
/// The read also drew each payment's three ids, which its event's body and the relay's
/// handoff need before the write: they come from blocks drawn ahead (`Wallet.drawIds`), in
/// the order payments are accepted, like the ids the read draws; a group that draws its own
/// drops what is left of the block (``dropIds()``), so ids keep rising from group to group.
final class PayStandingCache: Sendable {
  /// Ids drawn per block for a group of `size`: about sixteen groups' worth, so that one
  /// group in sixteen pays the extra round trip, and few ids wait below the ones others draw.
  static func idBlock(for size: Int) -> Int { min(max(size * 16, 64), 1_024) }
  /// Users remembered; past it the cache starts afresh (a full `pay` group reads again).
  static let mostUsers = 65_536

  private struct State {
    var balances: [Int64: Int64] = [:]
    var ids: ArraySlice<Wallet.PayStanding.Ids> = []
  }

  private let state = Mutex(State())

  /// Whether every one of `requests` is known to go through: a remembered balance that
  /// covers its amount, and no earlier request of the same user in the list.
  func covers(_ requests: [PayRequest]) -> Bool {
    state.withLock { Self.balances(of: requests, in: $0) != nil }
  }

  /// Ids drawn and not yet taken.
  var idsLeft: Int { state.withLock { $0.ids.count } }

  /// The standings of `requests` from the cache, ids taken in order, if it ``covers(_:)``
  /// them and holds enough ids; nil otherwise, and then nothing is taken.
  func standings(for requests: [PayRequest]) -> [Wallet.PayStanding]? {
    state.withLock { state in
      guard let balances = Self.balances(of: requests, in: state), state.ids.count >= requests.count else {
        return nil
      }
      let ids = state.ids.prefix(requests.count)
      state.ids.removeFirst(requests.count)
      // A seat is taken as free: its unique key refuses the write if it is not.
      return zip(balances, ids).map { balance, ids in
        Wallet.PayStanding(balance: balance, keyTaken: false, ids: ids, seatTaken: false)
      }
    }
  }

  private static func balances(of requests: [PayRequest], in state: State) -> [Int64]? {
    var users = Set<Int64>()
    var balances: [Int64] = []
    for request in requests {
      guard request.amount > 0, users.insert(request.userId).inserted,
        let balance = state.balances[request.userId], balance >= request.amount
      else { return nil }
      balances.append(balance)
    }
    return balances
  }

  /// Drops the ids left of the block: a group that draws its own (its read, or under locks)
  /// takes ids above them, and a later group's below those would reach the relay under rows
  /// it published already, which it then reads for instead of trusting the handoff
  /// (`ReadSchedule`). Ids dropped are gaps, like any sequence's.
  func dropIds() {
    state.withLock { $0.ids = [] }
  }

  /// Ids drawn for later groups, in the order drawn.
  func add(ids: [Wallet.PayStanding.Ids]) {
    state.withLock { $0.ids += ids }
  }

  /// Balances as a committed group left them.
  func remember(_ balances: [(userId: Int64, balance: Int64)]) {
    state.withLock { state in
      if state.balances.count + balances.count > Self.mostUsers { state.balances.removeAll(keepingCapacity: true) }
      for (user, balance) in balances { state.balances[user] = balance }
    }
  }

  /// Users whose wallets may have moved: their next group reads.
  func forget(users: some Sequence<Int64>) {
    state.withLock { state in
      for user in users { state.balances[user] = nil }
    }
  }
}
