import SagaTestSupport
import Testing

@testable import SagaStorage

/// Leases spread over the instances (Docs/storage-engines.md, "Leases are spread"), with real
/// advisory locks: two instances' leases, each on a session of its own, as two sagads have them.
@Suite("PostgreSQL leases spread over instances", .postgresServer, .timeLimit(.minutes(2)))
struct PostgresLeaseBalanceTests {
  static let names = ["relay payments", "relay points", "sweeper payments"]

  /// One instance's three leases; pinged on every check, so the test need not wait a second.
  static func leases(of instance: String, on database: PostgresStorageConfiguration) -> [PostgresLease] {
    var configuration = database
    configuration.applicationName = instance
    return names.map {
      PostgresLease(
        name: $0, configuration: configuration, checkInterval: .zero, rest: .milliseconds(300), logger: quietLogger)
    }
  }

  /// What the relays and the sweeper do each round: keep or take their lease.
  static func round(_ leases: [PostgresLease]) async -> [Bool] {
    var held: [Bool] = []
    for lease in leases { held.append(await lease.tryAcquire()) }
    return held
  }

  @Test(
    "the first instance holds all three, hands one to the second, and nothing moves after; it takes it back when that one goes"
  )
  func spread() async throws {
    let database = try await PostgresServer.suiteServer().freshDatabase()
    let observer = try await ServiceDatabase<StorageTablesSchema>.open(postgres: database, logger: quietLogger)
    let first = Self.leases(of: "sagad@a:1", on: database)
    let second = Self.leases(of: "sagad@b:2", on: database)
    try await observer.storage.closing {
      do {
        try await Self.spread(first, second, observer: observer.storage)
      } catch {
        for lease in first + second { await lease.close() }
        throw error
      }
      for lease in first { await lease.close() }
    }
  }

  static func spread(_ first: [PostgresLease], _ second: [PostgresLease], observer: SagaDatabase) async throws {
    #expect(await round(first) == [true, true, true])
    #expect(await round(second) == [false, false, false])

    // The first hands over one lease; the second takes it on its next round.
    var held: (first: [Bool], second: [Bool]) = ([], [])
    try await eventually("one lease to move to the second instance") {
      held = (await round(first), await round(second))
      return held.second.filter { $0 }.count == 1
    }
    let moved = try #require(held.second.firstIndex(of: true))
    // Two against one is balanced: rounds of both (each pings and looks) change nothing.
    for _ in 0..<5 {
      let now = (first: await round(first), second: await round(second))
      #expect(now.second == held.second, "the second instance keeps \(names[moved])")
      #expect(now.first == held.second.map { !$0 }, "the first keeps the other two")
    }
    // The server's view: each lease held by the instance its lease object says.
    let report = try #require(try await observer.report(leases: names))
    #expect(report.holders[names[moved]] == "sagad@b:2")
    #expect(names.filter { $0 != names[moved] }.allSatisfy { report.holders[$0] == "sagad@a:1" })

    // The second instance goes: the first takes the lease back once its rest is over.
    for lease in second { await lease.close() }
    try await eventually("the first instance to hold all three again") {
      await round(first) == [true, true, true]
    }
  }
}
