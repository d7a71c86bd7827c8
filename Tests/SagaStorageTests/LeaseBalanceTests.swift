import Testing

@testable import SagaStorage

/// Which lease a holder hands to a less busy instance (Docs/storage-engines.md, "Leases are
/// spread"), on snapshots of the advisory locks written out by hand.
@Suite("Lease balance")
struct LeaseBalanceTests {
  static let relayPayments: Int32 = -7
  static let relayPoints: Int32 = 3
  static let sweeper: Int32 = 11

  static func held(_ instance: String, _ leases: Int32...) -> [LeaseBalance.Lock] {
    leases.map { LeaseBalance.Lock(instance: instance, lease: $0, kind: .held) }
  }

  static func candidate(_ instance: String, _ leases: Int32...) -> [LeaseBalance.Lock] {
    leases.map { LeaseBalance.Lock(instance: instance, lease: $0, kind: .candidate) }
  }

  @Test("the first instance holds all three leases: the one with the lowest key goes to the idle one")
  func firstHoldsAll() {
    let all = [Self.relayPayments, Self.relayPoints, Self.sweeper]
    let balance = LeaseBalance(
      locks: Self.held("a", Self.relayPayments, Self.relayPoints, Self.sweeper)
        + Self.candidate("a", Self.relayPayments, Self.relayPoints, Self.sweeper)
        + Self.candidate("b", Self.relayPayments, Self.relayPoints, Self.sweeper))
    #expect(all.map { balance.successor(of: $0, me: "a") } == ["b", nil, nil])
    // Nobody else hands over what it does not hold.
    #expect(all.allSatisfy { balance.successor(of: $0, me: "b") == nil })
  }

  @Test("one lease apart is balanced: nothing moves back and forth")
  func settled() {
    let balance = LeaseBalance(
      locks: Self.held("a", Self.relayPoints, Self.sweeper) + Self.held("b", Self.relayPayments)
        + Self.candidate("a", Self.relayPayments, Self.relayPoints, Self.sweeper)
        + Self.candidate("b", Self.relayPayments, Self.relayPoints, Self.sweeper))
    for lease in [Self.relayPayments, Self.relayPoints, Self.sweeper] {
      #expect(balance.successor(of: lease, me: "a") == nil)
      #expect(balance.successor(of: lease, me: "b") == nil)
    }
  }

  @Test("while a lease with candidates has no holder (a hand-over under way), nothing else moves")
  func oneMoveAtATime() {
    let balance = LeaseBalance(
      locks: Self.held("a", Self.relayPoints, Self.sweeper)
        + Self.candidate("a", Self.relayPoints, Self.sweeper)
        + Self.candidate("b", Self.relayPayments, Self.relayPoints, Self.sweeper))
    #expect(balance.successor(of: Self.relayPoints, me: "a") == nil)
    #expect(balance.successor(of: Self.sweeper, me: "a") == nil)
  }

  @Test("only a candidate of the lease can take it: an instance of the other role gets none")
  func candidatesOnly() {
    // b runs Points only: it may take the points relay, never the payments relay or sweeper.
    let balance = LeaseBalance(
      locks: Self.held("a", Self.relayPayments, Self.sweeper, Self.relayPoints)
        + Self.candidate("b", Self.relayPoints))
    #expect(balance.successor(of: Self.relayPayments, me: "a") == nil)
    #expect(balance.successor(of: Self.sweeper, me: "a") == nil)
    #expect(balance.successor(of: Self.relayPoints, me: "a") == "b")
  }

  @Test("of several idle candidates, the least busy, then the first by name, takes it")
  func lightestCandidate() {
    let balance = LeaseBalance(
      locks: Self.held("a", Self.relayPayments, Self.relayPoints, Self.sweeper, 20) + Self.held("c", 21)
        + Self.candidate("c", Self.relayPayments) + Self.candidate("d", Self.relayPayments)
        + Self.candidate("b", Self.relayPayments))
    #expect(balance.successor(of: Self.relayPayments, me: "a") == "b")
  }

  @Test("pg_locks rows: a 64-bit lease key, a candidate pair, and other programs' locks")
  func locksFromRows() {
    // hashtext -7 as a bigint: high oid 0xFFFFFFFF, low 0xFFFFFFF9.
    #expect(
      LeaseBalance.Lock(instance: "a", classid: 0xFFFF_FFFF, objid: 0xFFFF_FFF9, objsubid: 1, exclusive: true)
        == LeaseBalance.Lock(instance: "a", lease: -7, kind: .held))
    #expect(
      LeaseBalance.Lock(instance: "a", classid: 3, objid: 0x7361_6761, objsubid: 2, exclusive: false)
        == LeaseBalance.Lock(instance: "a", lease: 3, kind: .candidate))
    // A key wider than 32 bits, a shared 64-bit lock, a pair with another second key.
    #expect(LeaseBalance.Lock(instance: "a", classid: 1, objid: 5, objsubid: 1, exclusive: true) == nil)
    #expect(LeaseBalance.Lock(instance: "a", classid: 0, objid: 5, objsubid: 1, exclusive: false) == nil)
    #expect(LeaseBalance.Lock(instance: "a", classid: 3, objid: 4, objsubid: 2, exclusive: false) == nil)
  }
}
