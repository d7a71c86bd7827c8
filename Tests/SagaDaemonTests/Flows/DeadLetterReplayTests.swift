import Foundation
import Logging
import Payments
import Points
import SagaCore
import SagaDaemon
import SagaKafka
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Testing

/// Replays from the dead-letter store into a running Points service: processed once,
/// and a second replay is recognised by the inbox, with or without an `eventId`.
@Suite("Dead-letter replay", .timeLimit(.minutes(2)))
struct DeadLetterReplayTests {
  /// A points-only node on a one-partition cluster.
  final class Harness: StoppableFixture, Sendable {
    let cluster: EmbeddedKafkaCluster
    let directory: TemporaryDirectory
    let node: SagaNode
    let admin: KafkaAdmin
    let task: Task<Void, any Error>

    init(roles: Set<SagaNodeConfiguration.Role> = [.points], failpoints: Bool = false) async throws {
      cluster = try EmbeddedKafkaCluster(brokers: 1, logger: SagaHarness.logger)
      for topic in TopicCatalog.allTopics { try cluster.createTopic(topic, partitions: 1) }
      directory = try TemporaryDirectory()
      var configuration = SagaNodeConfiguration(
        stateDirectory: directory.path, bootstrapServers: cluster.bootstrapServers)
      configuration.roles = roles
      configuration.failpointsEnabled = failpoints
      configuration.consumerProperties = ["session.timeout.ms": "4000", "heartbeat.interval.ms": "500"]
      configuration.deadLetters.replayRate = 1_000
      node = try SagaNode(configuration: configuration, logger: SagaHarness.logger)
      admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers, logger: SagaHarness.logger)
      let node = self.node
      task = Task { try await node.run() }
    }

    var points: PointsService { node.points! }
    var deadLetters: DeadLetterService { node.deadLetters }
    var pointsWorker: ConsumeWorker { node.workers.first { $0.name == "points" }! }

    /// Records on `reservation-completed` (one partition).
    func originalTopicRecords() async throws -> Int64 {
      try await admin.watermarks(topic: SagaTopic.reservationCompleted.rawValue, partition: 0).high
    }

    /// Puts a dead letter of a valid ReservationCompleted on `reservation-completed.DLT`,
    /// waits until the store has it and returns it.
    func deadLetter(paymentId: Int64, eventId: Bool) async throws -> StoredDeadLetter {
      let event = ReservationCompleted(
        paymentId: paymentId, userId: 7, reservationId: paymentId + 100, paidAmount: 50_000)
      try await produce(
        Self.deadLetterRecord(
          originalOffset: paymentId, eventId: eventId, key: Array(event.messageKey.utf8),
          value: EventCodec.encode(event)))
      var stored: StoredDeadLetter?
      try await eventually("the dead letter of payment \(paymentId) stored", timeout: .seconds(30)) {
        stored = try await deadLetters.list(limit: 100).first { $0.originalOffset == paymentId }
        return stored != nil
      }
      return stored!
    }

    /// A record on `reservation-completed.DLT` as sagad dead-letters one after three
    /// transient failures: the original's coordinates (partition 0, `originalOffset`), the
    /// failure, and with `eventId` the envelope's headers.
    static func deadLetterRecord(originalOffset: Int64, eventId: Bool, key: [UInt8], value: [UInt8])
      -> KafkaProducerMessage
    {
      let envelope = EventEnvelope(eventType: .reservationCompleted, trace: .start())
      var headers = eventId ? envelope.headers : []
      headers += [
        RecordHeader(name: HeaderName.DeadLetter.originalTopic, value: "reservation-completed"),
        RecordHeader(name: HeaderName.DeadLetter.originalPartition, value: "0"),
        RecordHeader(name: HeaderName.DeadLetter.originalOffset, value: String(originalOffset)),
        RecordHeader(
          name: HeaderName.DeadLetter.exceptionMessage, value: "injected-transient: failpoint points.reward"),
        RecordHeader(name: HeaderName.attempts, value: "3"),
        RecordHeader(name: HeaderName.failureClass, value: "exhausted"),
      ]
      return KafkaProducerMessage(
        topic: SagaTopic.reservationCompleted.deadLetterTopic, key: key, value: value, headers: headers)
    }

    private func produce(_ message: KafkaProducerMessage) async throws {
      let producer = try KafkaProducer(
        configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers),
        logger: SagaHarness.logger)
      for ticket in try await producer.send([message]) {
        let report = await ticket.report
        #expect(report.isPersisted, "\(report)")
      }
      await producer.close()
    }

    func stop() async {
      task.cancel()
      _ = try? await task.value
      await admin.close()
      await cluster.close()
    }
  }

  private func withHarness(
    roles: Set<SagaNodeConfiguration.Role> = [.points], failpoints: Bool = false,
    _ body: (Harness) async throws -> Void
  ) async throws {
    try await Harness(roles: roles, failpoints: failpoints).use(body)
  }

  @Test("dry run sends nothing; replay rewards once; a second replay is an inbox duplicate; replay count 2")
  func replayWithEventId() async throws {
    try await withHarness { harness in
      #expect(try await harness.points.enroll(userId: 7))
      let letter = try await harness.deadLetter(paymentId: 501, eventId: true)
      #expect(letter.status == .pending)
      #expect(letter.replayTopic == "reservation-completed")

      let dry = try await harness.deadLetters.replay(id: letter.id, dryRun: true)
      #expect(dry.entries.map(\.outcome) == [.wouldReplay])
      #expect(dry.entries.first?.replayOf == letter.eventId?.lowercased())
      #expect(try await harness.originalTopicRecords() == 0)
      #expect(try await harness.deadLetters.deadLetter(id: letter.id)?.status == .pending)

      let first = try await harness.deadLetters.replay(id: letter.id, dryRun: false)
      #expect(first.entries.map(\.outcome) == [.replayed])
      #expect(first.entries.first?.previousReplays == 0)
      // The worker counts a batch once its transaction returned, so the balance can be
      // visible a moment before `applied` is.
      try await eventually("the replayed reward, counted by the worker", timeout: .seconds(30)) {
        try await harness.points.balance(userId: 7) == 5_000 && harness.pointsWorker.statistics.applied == 1
      }

      let second = try await harness.deadLetters.replay(id: letter.id, dryRun: false)
      #expect(second.entries.map(\.outcome) == [.replayed])
      #expect(second.alreadyReplayed == 1)
      try await eventually("the second replay recognised by the inbox", timeout: .seconds(30)) {
        harness.pointsWorker.statistics.duplicates == 1
      }
      #expect(harness.pointsWorker.statistics.applied == 1)
      #expect(try await harness.points.balance(userId: 7) == 5_000)
      #expect(try await harness.originalTopicRecords() == 2)
      let stored = try #require(try await harness.deadLetters.deadLetter(id: letter.id))
      #expect(stored.status == .replayed)
      #expect(stored.replayCount == 2)
      #expect(stored.lastReplayedAt != nil)
      #expect(try await harness.points.verify().isEmpty)
    }
  }

  @Test("a dead letter without eventId replayed twice rewards once (inbox keyed on sagad-replay-of)")
  func replayWithoutEventId() async throws {
    try await withHarness { harness in
      #expect(try await harness.points.enroll(userId: 7))
      let letter = try await harness.deadLetter(paymentId: 502, eventId: false)
      #expect(letter.eventId == nil)
      #expect(letter.replayOf == "offset:reservation-completed[0]@502")
      _ = try await harness.deadLetters.replay(id: letter.id, dryRun: false)
      try await eventually("the replayed reward", timeout: .seconds(30)) {
        try await harness.points.balance(userId: 7) == 5_000
      }
      _ = try await harness.deadLetters.replay(id: letter.id, dryRun: false)
      try await eventually("the second replay recognised by the inbox", timeout: .seconds(30)) {
        harness.pointsWorker.statistics.duplicates == 1
      }
      #expect(harness.pointsWorker.statistics.applied == 1)
      #expect(try await harness.points.balance(userId: 7) == 5_000)
      #expect(try await harness.deadLetters.deadLetter(id: letter.id)?.replayCount == 2)
    }
  }

  @Test("replay --all skips discarded letters; a discarded one is refused by id; dry run first")
  func replayAllSkipsDiscarded() async throws {
    try await withHarness { harness in
      #expect(try await harness.points.enroll(userId: 7))
      let kept = try await harness.deadLetter(paymentId: 503, eventId: true)
      let dropped = try await harness.deadLetter(paymentId: 504, eventId: true)
      let note = "duplicate of 503, confirmed with the customer"
      let discarded = try await harness.deadLetters.discard(id: dropped.id, note: note)
      #expect(discarded.status == .discarded)
      #expect(discarded.discardNote == note)
      do {
        _ = try await harness.deadLetters.discard(id: kept.id, note: "  ")
        Issue.record("a discard without a note was accepted")
      } catch let error as DeadLetterError {
        #expect(error.code == .invalidRequest)
      }
      do {
        _ = try await harness.deadLetters.replay(id: dropped.id, dryRun: false)
        Issue.record("a discarded dead letter was replayed")
      } catch let error as DeadLetterError {
        #expect(error.code == .discarded)
      }

      let filter = DeadLetterFilter(topic: "reservation-completed")
      let dry = try await harness.deadLetters.replayAll(filter, dryRun: true)
      #expect(dry.entries.map(\.id) == [kept.id])
      #expect(try await harness.originalTopicRecords() == 0)
      let done = try await harness.deadLetters.replayAll(filter, dryRun: false)
      #expect(done.entries.map(\.id) == [kept.id])
      #expect(done.count(.replayed) == 1)
      try await eventually("the reward of 503 only", timeout: .seconds(30)) {
        try await harness.points.balance(userId: 7) == 5_000
      }
      #expect(try await harness.points.reward(userId: 7, paymentId: 504) == nil)
      #expect(try await harness.deadLetters.deadLetter(id: dropped.id)?.status == .discarded)
      // Nothing pending is left for --all.
      #expect(try await harness.deadLetters.replayAll(filter, dryRun: true).entries.isEmpty)
    }
  }

  @Test("sagad's own dead letter: a reward failing permanently once is replayed after the fix → REWARDED once")
  func fullLoop() async throws {
    try await withHarness(roles: [.payments, .points], failpoints: true) { harness in
      let payments = try #require(harness.node.payments)
      try await payments.addUser(id: 1, initialBalance: 100_000)
      #expect(try await harness.points.enroll(userId: 1))
      try harness.node.failpoints.set(.pointsReward, .errorPermanent, trigger: .count(1))
      let paid = try await harness.node.pay(PayRequest(userId: 1, scheduleId: 1, seat: "A1", amount: 50_000))

      // The Points worker dead-letters it; the relay publishes it; the DLT worker stores it.
      var letter: StoredDeadLetter?
      try await eventually("the dead letter in the store", timeout: .seconds(30)) {
        letter = try await harness.deadLetters.list(limit: 10).first
        return letter != nil
      }
      let stored = try #require(letter)
      #expect(stored.topic == "reservation-completed.DLT")
      #expect(stored.originalTopic == "reservation-completed")
      #expect(stored.originalConsumerGroup == "points-service")
      #expect(stored.reasonCode == "injected-permanent")
      #expect(stored.failureClass == "permanent")
      #expect(stored.attempts == 1)
      #expect(stored.eventId != nil)
      #expect(try await payments.payment(id: paid.paymentId)?.status == .paid)

      // The failpoint fired its one time: the cause is gone. Replay, twice.
      let first = try await harness.deadLetters.replay(id: stored.id, dryRun: false)
      #expect(first.entries.map(\.outcome) == [.replayed])
      try await eventually("the payment rewarded", timeout: .seconds(30)) {
        try await payments.payment(id: paid.paymentId)?.status == .rewarded
      }
      let duplicatesBefore = harness.pointsWorker.statistics.duplicates
      _ = try await harness.deadLetters.replay(id: stored.id, dryRun: false)
      try await eventually("the second replay recognised by the inbox", timeout: .seconds(30)) {
        harness.pointsWorker.statistics.duplicates == duplicatesBefore + 1
      }
      #expect(try await harness.points.balance(userId: 1) == 5_000)
      #expect(try await payments.balance(userId: 1) == 50_000)
      #expect(try await harness.deadLetters.deadLetter(id: stored.id)?.replayCount == 2)
      #expect(try await harness.deadLetters.list(limit: 10).count == 1)
      #expect(try await payments.verify().isEmpty)
      #expect(try await harness.points.verify().isEmpty)
    }
  }
}
