import Foundation
import SagaCore
import Synchronization
import Testing

/// Failpoints (Docs/operations-recovery.md, "Failpoints"): armed by name with an action and a
/// trigger, inert unless enabled.
@Suite("Failpoints", .timeLimit(.minutes(2)))
struct FailpointsTests {
  /// The error `body` throws, or nil.
  private func thrown(_ body: () throws -> Void) -> SagaError? {
    do {
      try body()
      return nil
    } catch {
      return error as? SagaError ?? SagaError(.internalError, "not a SagaError: \(error)")
    }
  }

  @Test("error(transient) and error(permanent) throw the injected codes with their classes")
  func errors() {
    let failpoints = Failpoints(enabled: true)
    #expect(thrown { try failpoints.hit(.pointsReward) } == nil)
    try? failpoints.set(.pointsReward, .errorTransient)
    let transient = thrown { try failpoints.hit(.pointsReward) }
    #expect(transient?.code == .injectedTransient)
    #expect(transient?.isRetriable == true)
    #expect(transient?.message == "failpoint points.reward")
    // Other points are untouched.
    #expect(thrown { try failpoints.hit(.dbCommit) } == nil)

    try? failpoints.set(.pointsReward, .errorPermanent)
    let permanent = thrown { try failpoints.hit(.pointsReward) }
    #expect(permanent?.code == .injectedPermanent)
    #expect(permanent?.failureClass == .permanent)
  }

  @Test("delay waits, synchronously and asynchronously, then lets the caller go on")
  func delay() async throws {
    let failpoints = Failpoints(enabled: true)
    try failpoints.set(.outboxPublish, .delay(.milliseconds(80)))
    let clock = ContinuousClock()
    let sync: Duration = clock.measure { #expect(thrown { try failpoints.hit(.outboxPublish) } == nil) }
    #expect(sync >= .milliseconds(80))
    let start = clock.now
    try await failpoints.hitAsync(.outboxPublish)
    #expect(clock.now - start >= .milliseconds(80))
    #expect(failpoints.list().first?.hits == 2)
  }

  // `crash` is proven through real sagad processes (FailpointCrashTests: SIGABRT after its log
  // line), not with an exit test: swift-testing's exit-test monitor waits on any child, and a
  // zombie sagad of another test made it miss its own child's exit and hang the run
  // (Docs/development.md, "Tests").

  @Test("a count trigger fires on the next N hits, then disarms itself")
  func count() throws {
    let failpoints = Failpoints(enabled: true)
    try failpoints.set(.dbCommit, .errorTransient, trigger: .count(3))
    #expect(failpoints.list().first?.remaining == 3)
    for fired in 1...3 {
      #expect(thrown { try failpoints.hit(.dbCommit) }?.code == .injectedTransient)
      if fired < 3 {
        #expect(failpoints.list().first?.fired == fired)
        #expect(failpoints.list().first?.remaining == 3 - fired)
      }
    }
    #expect(failpoints.list().isEmpty)
    #expect(thrown { try failpoints.hit(.dbCommit) } == nil)
    #expect(throws: SagaError.self) { try failpoints.set(.dbCommit, .crash, trigger: .count(0)) }
  }

  @Test("a probability trigger fires as often as its seeded source says")
  func probability() throws {
    let generator = Mutex(SeededGenerator(seed: 42))
    let values = Mutex<[Double]>([])
    let failpoints = Failpoints(
      enabled: true,
      random: {
        let value = generator.withLock { Double.random(in: 0..<1, using: &$0) }
        values.withLock { $0.append(value) }
        return value
      })
    try failpoints.set(.paymentsRefund, .errorPermanent, trigger: .probability(0.3))
    var fired = 0
    for _ in 0..<1_000 where thrown({ try failpoints.hit(.paymentsRefund) }) != nil { fired += 1 }
    // Exactly the draws below p fired, and that is roughly 30 %.
    #expect(fired == values.withLock { $0.filter { $0 < 0.3 }.count })
    #expect((250...350).contains(fired))
    let state = try #require(failpoints.list().first)
    #expect(state.hits == 1_000)
    #expect(state.fired == fired)
    #expect(state.trigger == .probability(0.3))
    #expect(throws: SagaError.self) { try failpoints.set(.paymentsRefund, .crash, trigger: .probability(0)) }
    #expect(throws: SagaError.self) { try failpoints.set(.paymentsRefund, .crash, trigger: .probability(1.5)) }
  }

  @Test("disabled: set is refused and hit never fires")
  func disabled() {
    let failpoints = Failpoints(enabled: false)
    #expect(!failpoints.isEnabled)
    let refused = thrown { try failpoints.set(.pointsReward, .crash) }
    #expect(refused?.message == "failpoints are disabled: set failpoints.enabled")
    #expect(failpoints.list().isEmpty)
    for name in FailpointName.known { #expect(thrown { try failpoints.hit(name) } == nil) }
    #expect(!Failpoints.disabled.isEnabled)
  }

  @Test("unknown names and actions are refused, naming what exists")
  func parsing() throws {
    let unknown = thrown { _ = try FailpointName(parsing: "points.rewrad") }
    #expect(unknown?.code == .invalidValue)
    for name in FailpointName.known { #expect(unknown?.message.contains(name.rawValue) == true) }
    let failpoints = Failpoints(enabled: true)
    let refused = thrown { try failpoints.set(FailpointName(rawValue: "nope"), .crash) }
    #expect(refused?.message.contains("outbox.publish") == true)
    #expect(failpoints.list().isEmpty)

    #expect(
      FailpointName.known.map(\.rawValue) == [
        "points.reward", "payments.refund", "outbox.publish", "consumer.before_offset_commit", "db.commit",
      ])
    #expect(try FailpointName(parsing: "db.commit") == .dbCommit)
    #expect(try FailpointAction(parsing: "error(transient)") == .errorTransient)
    #expect(try FailpointAction(parsing: "error(permanent)") == .errorPermanent)
    #expect(try FailpointAction(parsing: "delay(250)") == .delay(.milliseconds(250)))
    #expect(try FailpointAction(parsing: "crash") == .crash)
    #expect(FailpointAction.delay(.milliseconds(250)).description == "delay(250)")
    #expect(throws: SagaError.self) { try FailpointAction(parsing: "explode") }
    #expect(throws: SagaError.self) { try FailpointAction(parsing: "delay(x)") }
  }

  @Test("list shows each armed point's action, trigger and hits; clear and clearAll disarm")
  func listAndClear() throws {
    let failpoints = Failpoints(enabled: true)
    try failpoints.set(.outboxPublish, .errorTransient, trigger: .count(5))
    try failpoints.set(.dbCommit, .delay(.milliseconds(1)))
    _ = thrown { try failpoints.hit(.outboxPublish) }
    let list = failpoints.list()
    #expect(list.map(\.name) == [.dbCommit, .outboxPublish])
    #expect(list[1].action == .errorTransient)
    #expect(list[1].trigger == .count(5))
    #expect(list[1].hits == 1)
    #expect(list[0].hits == 0)
    failpoints.clear(.outboxPublish)
    #expect(failpoints.list().map(\.name) == [.dbCommit])
    #expect(thrown { try failpoints.hit(.outboxPublish) } == nil)
    failpoints.clearAll()
    #expect(failpoints.list().isEmpty)
  }
}
